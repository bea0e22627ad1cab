package org.vfio4j.core.kvm;

/**
 * The general registers of {@code struct kvm_regs} (x86-64 order). Mutable value object: read with
 * {@link KvmVcpu#registers()}, change, write back with {@link KvmVcpu#setRegisters}.
 */
public final class Registers {
    /** Register values in kvm_regs order: rax rbx rcx rdx rsi rdi rsp rbp r8-r15 rip rflags. */
    final long[] values = new long[18];

    private static final int RAX = 0;
    private static final int RBX = 1;
    private static final int RCX = 2;
    private static final int RDX = 3;
    private static final int RSI = 4;
    private static final int RDI = 5;
    private static final int RSP = 6;
    private static final int RIP = 16;
    private static final int RFLAGS = 17;

    /** The RAX register. */
    public long rax() {
        return values[RAX];
    }

    /** Sets RAX; returns this. */
    public Registers rax(long v) {
        values[RAX] = v;
        return this;
    }

    /** The RBX register. */
    public long rbx() {
        return values[RBX];
    }

    /** Sets RBX; returns this. */
    public Registers rbx(long v) {
        values[RBX] = v;
        return this;
    }

    /** The RCX register. */
    public long rcx() {
        return values[RCX];
    }

    /** Sets RCX; returns this. */
    public Registers rcx(long v) {
        values[RCX] = v;
        return this;
    }

    /** The RDX register. */
    public long rdx() {
        return values[RDX];
    }

    /** Sets RDX; returns this. */
    public Registers rdx(long v) {
        values[RDX] = v;
        return this;
    }

    /** The RSI register. */
    public long rsi() {
        return values[RSI];
    }

    /** Sets RSI; returns this. */
    public Registers rsi(long v) {
        values[RSI] = v;
        return this;
    }

    /** The RDI register. */
    public long rdi() {
        return values[RDI];
    }

    /** Sets RDI; returns this. */
    public Registers rdi(long v) {
        values[RDI] = v;
        return this;
    }

    /** The RSP register. */
    public long rsp() {
        return values[RSP];
    }

    /** Sets RSP; returns this. */
    public Registers rsp(long v) {
        values[RSP] = v;
        return this;
    }

    /** The RIP register. */
    public long rip() {
        return values[RIP];
    }

    /** Sets RIP; returns this. */
    public Registers rip(long v) {
        values[RIP] = v;
        return this;
    }

    /** The RFLAGS register. */
    public long rflags() {
        return values[RFLAGS];
    }

    /** Sets RFLAGS; returns this. */
    public Registers rflags(long v) {
        values[RFLAGS] = v;
        return this;
    }

    @Override
    public String toString() {
        return String.format("rip=0x%x rflags=0x%x rax=0x%x rbx=0x%x rcx=0x%x rdx=0x%x rsi=0x%x rdi=0x%x rsp=0x%x",
                rip(), rflags(), rax(), rbx(), rcx(), rdx(), rsi(), rdi(), rsp());
    }
}
