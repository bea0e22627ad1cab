package org.vfio4j.core.kvm;

import com.sun.jna.Memory;

/**
 * {@code struct kvm_sregs}: segment registers, descriptor tables and control registers. A mutable view over the
 * buffer read by {@link KvmVcpu#specialRegisters()}; write it back with {@link KvmVcpu#setSpecialRegisters}. Fields
 * not touched (the interrupt bitmap, APIC base) are written back as read.
 */
public final class SpecialRegisters {
    /** CR0 protection enable. */
    public static final long CR0_PE = 1;
    /** CR0 extension type (always 1 on modern CPUs). */
    public static final long CR0_ET = 1 << 4;

    final Memory buf = new Memory(KvmAbi.Sizes.SREGS);

    SpecialRegisters() {
        buf.clear();
    }

    /** The segment at {@code offset} ({@link KvmAbi.Sregs#CS} and so on). */
    public Segment segment(int offset) {
        return new Segment(
                buf.getLong(offset + KvmAbi.Segment.BASE),
                buf.getInt(offset + KvmAbi.Segment.LIMIT),
                buf.getShort(offset + KvmAbi.Segment.SELECTOR) & 0xffff,
                buf.getByte(offset + KvmAbi.Segment.TYPE),
                buf.getByte(offset + KvmAbi.Segment.PRESENT) != 0,
                buf.getByte(offset + KvmAbi.Segment.DPL),
                buf.getByte(offset + KvmAbi.Segment.DB) != 0,
                buf.getByte(offset + KvmAbi.Segment.S) != 0,
                buf.getByte(offset + KvmAbi.Segment.L) != 0,
                buf.getByte(offset + KvmAbi.Segment.G) != 0,
                buf.getByte(offset + KvmAbi.Segment.UNUSABLE) != 0);
    }

    /** Sets the segment at {@code offset}. */
    public SpecialRegisters segment(int offset, Segment s) {
        buf.setLong(offset + KvmAbi.Segment.BASE, s.base());
        buf.setInt(offset + KvmAbi.Segment.LIMIT, s.limit());
        buf.setShort(offset + KvmAbi.Segment.SELECTOR, (short) s.selector());
        buf.setByte(offset + KvmAbi.Segment.TYPE, (byte) s.type());
        buf.setByte(offset + KvmAbi.Segment.PRESENT, (byte) (s.present() ? 1 : 0));
        buf.setByte(offset + KvmAbi.Segment.DPL, (byte) s.dpl());
        buf.setByte(offset + KvmAbi.Segment.DB, (byte) (s.db() ? 1 : 0));
        buf.setByte(offset + KvmAbi.Segment.S, (byte) (s.s() ? 1 : 0));
        buf.setByte(offset + KvmAbi.Segment.L, (byte) (s.l() ? 1 : 0));
        buf.setByte(offset + KvmAbi.Segment.G, (byte) (s.g() ? 1 : 0));
        buf.setByte(offset + KvmAbi.Segment.AVL, (byte) 0);
        buf.setByte(offset + KvmAbi.Segment.UNUSABLE, (byte) (s.unusable() ? 1 : 0));
        return this;
    }

    /** Sets DS, ES, FS, GS and SS to {@code s}. */
    public SpecialRegisters dataSegments(Segment s) {
        for (int off : new int[] {KvmAbi.Sregs.DS, KvmAbi.Sregs.ES, KvmAbi.Sregs.FS, KvmAbi.Sregs.GS,
            KvmAbi.Sregs.SS}) {
            segment(off, s);
        }
        return this;
    }

    public long gdtBase() {
        return buf.getLong(KvmAbi.Sregs.GDT + KvmAbi.DTable.BASE);
    }

    /** Sets the GDT register. */
    public SpecialRegisters gdt(long base, int limit) {
        buf.setLong(KvmAbi.Sregs.GDT + KvmAbi.DTable.BASE, base);
        buf.setShort(KvmAbi.Sregs.GDT + KvmAbi.DTable.LIMIT, (short) limit);
        return this;
    }

    /** Sets the IDT register (in real mode: the IVT's base and limit). */
    public SpecialRegisters idt(long base, int limit) {
        buf.setLong(KvmAbi.Sregs.IDT + KvmAbi.DTable.BASE, base);
        buf.setShort(KvmAbi.Sregs.IDT + KvmAbi.DTable.LIMIT, (short) limit);
        return this;
    }

    public long cr0() {
        return buf.getLong(KvmAbi.Sregs.CR0);
    }

    public SpecialRegisters cr0(long v) {
        buf.setLong(KvmAbi.Sregs.CR0, v);
        return this;
    }

    public long cr3() {
        return buf.getLong(KvmAbi.Sregs.CR3);
    }

    /** Sets CR3 (the page-table root); returns this. */
    public SpecialRegisters cr3(long v) {
        buf.setLong(KvmAbi.Sregs.CR3, v);
        return this;
    }

    public long cr4() {
        return buf.getLong(KvmAbi.Sregs.CR4);
    }

    public SpecialRegisters cr4(long v) {
        buf.setLong(KvmAbi.Sregs.CR4, v);
        return this;
    }

    public long efer() {
        return buf.getLong(KvmAbi.Sregs.EFER);
    }

    public SpecialRegisters efer(long v) {
        buf.setLong(KvmAbi.Sregs.EFER, v);
        return this;
    }

    public long apicBase() {
        return buf.getLong(KvmAbi.Sregs.APIC_BASE);
    }

    @Override
    public String toString() {
        return String.format("cs=%s ss=%s ds=%s tr=%s ldt=%s cr0=0x%x cr4=0x%x efer=0x%x",
                segment(KvmAbi.Sregs.CS), segment(KvmAbi.Sregs.SS), segment(KvmAbi.Sregs.DS),
                segment(KvmAbi.Sregs.TR), segment(KvmAbi.Sregs.LDT), cr0(), cr4(), efer());
    }
}
