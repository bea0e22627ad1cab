package org.vfio4j.refvmm.linux.boot;

/**
 * A segment register's hidden state as the CPU loads it from a GDT descriptor: the fields of KVM's
 * {@code struct kvm_segment}, one to one.
 *
 * @param selector the selector (GDT index * 8)
 * @param base the base address
 * @param limit the limit in bytes (already scaled by 4 KiB when {@code g})
 * @param type the 4-bit type (11 = execute/read code, accessed; 3 = read/write data, accessed; 11 with {@code s}
 *     clear = busy TSS)
 * @param s true for code/data, false for system segments
 * @param dpl the privilege level
 * @param present the P bit
 * @param avl the AVL bit
 * @param l the 64-bit code bit
 * @param db the default operand size bit
 * @param g the granularity bit
 */
public record Segment(int selector, long base, long limit, int type, boolean s, int dpl, boolean present,
        boolean avl, boolean l, boolean db, boolean g) {

    /** Decodes the 8-byte GDT descriptor {@code descriptor} loaded through {@code selector}. */
    public static Segment decode(int selector, long descriptor) {
        long base = (descriptor >>> 16 & 0xFF_FFFFL) | (descriptor >>> 56 & 0xFF) << 24;
        long rawLimit = (descriptor & 0xFFFF) | (descriptor >>> 48 & 0xF) << 16;
        boolean g = (descriptor >>> 55 & 1) != 0;
        long limit = g ? rawLimit << 12 | 0xFFF : rawLimit;
        return new Segment(selector, base, limit, (int) (descriptor >>> 40 & 0xF), (descriptor >>> 44 & 1) != 0,
                (int) (descriptor >>> 45 & 3), (descriptor >>> 47 & 1) != 0, (descriptor >>> 52 & 1) != 0,
                (descriptor >>> 53 & 1) != 0, (descriptor >>> 54 & 1) != 0, g);
    }
}
