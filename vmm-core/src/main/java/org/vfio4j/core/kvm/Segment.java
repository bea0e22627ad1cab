package org.vfio4j.core.kvm;

/**
 * An x86 segment register's hidden state as {@code struct kvm_segment} carries it.
 *
 * @param base the linear base address
 * @param limit the byte limit (0xffffffff for 4 GiB)
 * @param selector the selector value
 * @param type the descriptor type nibble (e.g. 0xb execute/read accessed code, 0x3 read/write accessed data)
 * @param db default operand size (1 = 32-bit)
 * @param s 1 for code/data, 0 for system segments
 * @param present the present bit
 * @param dpl the descriptor privilege level
 * @param l 64-bit code segment
 * @param unusable VMX "unusable" (a null selector loaded)
 * @param g limit granularity (1 = 4 KiB units; KVM takes the byte limit and expects it consistent with g)
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
        boolean s, boolean l, boolean g, boolean unusable) {

    /** A flat 32-bit ring-0 code segment: base 0, limit 4 GiB, execute/read. */
    public static Segment flatCode32(int selector) {
        return new Segment(0, 0xffffffff, selector, 0xb, true, 0, true, true, false, true, false);
    }

    /** A flat 32-bit ring-0 data segment: base 0, limit 4 GiB, read/write. */
    public static Segment flatData32(int selector) {
        return new Segment(0, 0xffffffff, selector, 0x3, true, 0, true, true, false, true, false);
    }

    /** A real-mode segment: base = selector * 16, limit 64 KiB. */
    public static Segment realMode(int selector, boolean code) {
        return new Segment((long) (selector & 0xffff) << 4, 0xffff, selector & 0xffff, code ? 0xb : 0x3, true, 0,
                false, true, false, false, false);
    }
}
