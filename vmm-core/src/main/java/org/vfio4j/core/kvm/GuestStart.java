package org.vfio4j.core.kvm;

/**
 * Register setups that let small guest programs run from a chosen entry point: real mode (including the reset
 * vector), flat 32-bit protected mode without paging, and 64-bit long mode on page tables the guest memory already
 * holds (the x86 Linux 64-bit boot protocol's entry state).
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

    /** CR0 for long mode: PE | ET | NE | PG. */
    private static final long CR0_LONG = SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET | (1L << 5) | (1L << 31);
    private static final long CR4_PAE = 1L << 5;
    private static final long EFER_LME = 1L << 8;
    private static final long EFER_LMA = 1L << 10;

    /**
     * 64-bit long mode with paging on: CR3 = {@code pml4}, CR4.PAE, EFER.LME|LMA, CS a 64-bit code segment with
     * selector {@code codeSelector}, the data segments flat with {@code dataSelector}, the GDT register at
     * {@code gdtBase}/{@code gdtLimit} (the guest memory must hold matching descriptors, since the guest reloads
     * segments from it), RIP = {@code entry}, RSI = {@code rsi} (the Linux boot protocol passes boot_params
     * there), interrupts off. The page tables must identity-map at least the code at {@code entry}.
     */
    public static void longMode(KvmVcpu vcpu, long entry, long rsi, long pml4, long gdtBase, int gdtLimit,
            int codeSelector, int dataSelector) {
        SpecialRegisters s = vcpu.specialRegisters();
        s.segment(KvmAbi.Sregs.CS, Segment.code64(codeSelector));
        s.dataSegments(Segment.flatData32(dataSelector));
        s.gdt(gdtBase, gdtLimit);
        s.cr3(pml4);
        s.cr4(CR4_PAE);
        s.cr0(CR0_LONG);
        s.efer(EFER_LME | EFER_LMA);
        vcpu.setSpecialRegisters(s);
        vcpu.setRegisters(new Registers().rip(entry).rsi(rsi).rflags(2));
    }
}
