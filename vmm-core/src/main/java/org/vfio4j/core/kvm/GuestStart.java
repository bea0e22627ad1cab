package org.vfio4j.core.kvm;

/**
 * Register setups that let small guest programs run from a chosen entry point: real mode (including the reset
 * vector) and flat 32-bit protected mode without paging. Long-mode entry states (which need page tables and a GDT in
 * guest memory) are set by the VMM that builds them, through {@link SpecialRegisters}.
 */
public final class GuestStart {
    private GuestStart() {
    }

    /** The x86 reset vector: CS selector 0xf000 with base 0xffff0000, IP 0xfff0 (physical 0xfffffff0). */
    public static void resetVector(KvmVcpu vcpu) {
        SpecialRegisters s = vcpu.specialRegisters();
        s.segment(KvmAbi.Sregs.CS, new Segment(0xffff0000L, 0xffff, 0xf000, 0xb, true, 0, false, true, false, false,
                false));
        s.cr0(s.cr0() & ~SpecialRegisters.CR0_PE);
        vcpu.setSpecialRegisters(s);
        vcpu.setRegisters(new Registers().rip(0xfff0).rflags(2));
    }

    /**
     * Real mode at {@code cs:ip}, with DS=ES=FS=GS=SS={@code ds} and SP={@code sp}. The IVT stays at 0 (limit
     * 0x3ff).
     */
    public static void realMode(KvmVcpu vcpu, int cs, int ip, int ds, int sp) {
        SpecialRegisters s = vcpu.specialRegisters();
        s.segment(KvmAbi.Sregs.CS, Segment.realMode(cs, true));
        s.dataSegments(Segment.realMode(ds, false));
        s.cr0(s.cr0() & ~SpecialRegisters.CR0_PE);
        s.idt(0, 0x3ff);
        vcpu.setSpecialRegisters(s);
        vcpu.setRegisters(new Registers().rip(ip & 0xffff).rsp(sp & 0xffff).rflags(2));
    }

    /**
     * Flat 32-bit protected mode: CR0.PE set, paging off, CS selector 0x08 and data selector 0x10 with base 0 and
     * limit 4 GiB, EIP={@code entry}, ESP={@code stack}, interrupts off. KVM loads the hidden segment state
     * directly, so no GDT is needed until the guest reloads a segment (an interrupt or iret does): a guest that
     * takes interrupts loads its own GDT with the same selectors.
     */
    public static void flat32(KvmVcpu vcpu, long entry, long stack) {
        SpecialRegisters s = vcpu.specialRegisters();
        s.segment(KvmAbi.Sregs.CS, Segment.flatCode32(0x08));
        s.dataSegments(Segment.flatData32(0x10));
        s.cr0((s.cr0() | SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET) & ~(1L << 31));
        s.cr4(0);
        s.efer(0);
        vcpu.setSpecialRegisters(s);
        vcpu.setRegisters(new Registers().rip(entry).rsp(stack).rflags(2));
    }
}
