package org.vfio4j.refvmm.linux.boot;

/**
 * The system-register values of a vCPU entering a 64-bit kernel with {@link LongModeTables}' GDT and identity map,
 * for the VMM to put into KVM's special registers (interrupts off: RFLAGS 0x2).
 *
 * @param cr0 PE | ET | NE | PG
 * @param cr3 the PML4's address
 * @param cr4 PAE
 * @param efer LME | LMA
 * @param gdtBase the GDT's guest-physical address
 * @param gdtLimit the GDT's size minus one
 * @param cs the 64-bit code segment (selector 0x10)
 * @param data the flat data segment for DS, ES, FS, GS and SS (selector 0x18)
 * @param tr a busy 64-bit TSS (selector 0x20): VMX refuses long-mode entry without a usable TR
 */
public record LongModeRegisters(long cr0, long cr3, long cr4, long efer, long gdtBase, int gdtLimit, Segment cs,
        Segment data, Segment tr) {
}
