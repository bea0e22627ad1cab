package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;

/**
 * A KVM vCPU: its fd, its mmapped {@code kvm_run} page, and thin wrappers over KVM_RUN and the register ioctls. The
 * run loop lives in {@link VcpuThread}. {@link #close()} unmaps the page and closes the fd, once; the caller stops
 * the vCPU's thread first.
 */
public final class KvmVcpu implements AutoCloseable {
    private final KvmVm vm;
    private final int id;
    private final FileDescriptor fd;
    private final MemoryMapping run;
    private final Pointer runPage;
    private final ByteBuffer runBuffer;
    private final AtomicBoolean closed = new AtomicBoolean();

    KvmVcpu(KvmVm vm, int id, FileDescriptor fd) {
        this.vm = vm;
        this.id = id;
        this.fd = fd;
        try {
            this.run = fd.mmap(0, vm.kvm().vcpuMmapSize(), Linux.PROT_READ | Linux.PROT_WRITE);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
        this.runPage = run.pointer();
        this.runBuffer = runPage.getByteBuffer(0, run.length()).order(ByteOrder.nativeOrder());
    }

    /** The vCPU id (also its initial APIC id). */
    public int id() {
        return id;
    }

    /** The VM this vCPU belongs to. */
    public KvmVm vm() {
        return vm;
    }

    /** The vCPU fd. */
    public FileDescriptor fd() {
        return fd;
    }

    /** The {@code kvm_run} page; offsets in {@link KvmAbi.Run}. Valid until {@link #close()}. */
    public Pointer runPage() {
        return runPage;
    }

    /**
     * The {@code kvm_run} page as one direct buffer (native byte order, absolute indexes = {@link KvmAbi.Run}
     * offsets). The run loop reads and answers exits through it: a buffer access is a plain memory access once
     * compiled, where each {@link Pointer} accessor is a JNI call. Shared with the run loop; use absolute accessors
     * only. Valid until {@link #close()}.
     */
    public ByteBuffer runBuffer() {
        return runBuffer;
    }

    /** KVM_RUN once; returns 0, or {@code -errno} (EINTR when a signal or immediate_exit stopped it). */
    public int runOnce() {
        return fd.ioctlRaw(KvmAbi.KVM_RUN, 0L);
    }

    /** {@code kvm_run.exit_reason} after {@link #runOnce()}. */
    public int exitReason() {
        return runBuffer.getInt(KvmAbi.Run.EXIT_REASON);
    }

    /** Sets {@code kvm_run.immediate_exit}: while set, KVM_RUN returns EINTR at once instead of entering the guest. */
    public void immediateExit(boolean on) {
        runBuffer.put(KvmAbi.Run.IMMEDIATE_EXIT, (byte) (on ? 1 : 0));
    }

    /** KVM_GET_REGS. */
    public Registers registers() {
        Memory buf = new Memory(KvmAbi.Sizes.REGS);
        fd.ioctl(KvmAbi.KVM_GET_REGS, buf);
        Registers r = new Registers();
        buf.read(0, r.values, 0, r.values.length);
        return r;
    }

    /** KVM_SET_REGS. */
    public void setRegisters(Registers regs) {
        Memory buf = new Memory(KvmAbi.Sizes.REGS);
        buf.write(0, regs.values, 0, regs.values.length);
        fd.ioctl(KvmAbi.KVM_SET_REGS, buf);
    }

    /** KVM_GET_SREGS. */
    public SpecialRegisters specialRegisters() {
        SpecialRegisters s = new SpecialRegisters();
        fd.ioctl(KvmAbi.KVM_GET_SREGS, s.buf);
        return s;
    }

    /** KVM_SET_SREGS. */
    public void setSpecialRegisters(SpecialRegisters sregs) {
        fd.ioctl(KvmAbi.KVM_SET_SREGS, sregs.buf);
    }

    /** KVM_SET_CPUID2: the CPUID leaves this vCPU reports (set before its first KVM_RUN). */
    public void setCpuid(List<CpuidEntry> entries) {
        Memory buf = new Memory(KvmAbi.Sizes.CPUID2 + (long) entries.size() * KvmAbi.Sizes.CPUID_ENTRY2);
        buf.clear();
        buf.setInt(0, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            CpuidEntry e = entries.get(i);
            long at = KvmAbi.Sizes.CPUID2 + (long) i * KvmAbi.Sizes.CPUID_ENTRY2;
            buf.setInt(at + KvmAbi.CpuidEntry.FUNCTION, e.function());
            buf.setInt(at + KvmAbi.CpuidEntry.INDEX, e.index());
            buf.setInt(at + KvmAbi.CpuidEntry.FLAGS, e.flags());
            buf.setInt(at + KvmAbi.CpuidEntry.EAX, e.eax());
            buf.setInt(at + KvmAbi.CpuidEntry.EBX, e.ebx());
            buf.setInt(at + KvmAbi.CpuidEntry.ECX, e.ecx());
            buf.setInt(at + KvmAbi.CpuidEntry.EDX, e.edx());
        }
        fd.ioctl(KvmAbi.KVM_SET_CPUID2, buf);
    }

    /** KVM_GET_LAPIC: the in-kernel local APIC's 1 KiB register page (needs the in-kernel irqchip). */
    public byte[] lapicState() {
        Memory buf = new Memory(KvmAbi.Sizes.LAPIC_STATE);
        fd.ioctl(KvmAbi.KVM_GET_LAPIC, buf);
        return buf.getByteArray(0, KvmAbi.Sizes.LAPIC_STATE);
    }

    /** KVM_SET_LAPIC: replaces the in-kernel local APIC's register page. */
    public void setLapicState(byte[] state) {
        if (state.length != KvmAbi.Sizes.LAPIC_STATE) {
            throw new IllegalArgumentException("a LAPIC state is " + KvmAbi.Sizes.LAPIC_STATE + " bytes");
        }
        Memory buf = new Memory(KvmAbi.Sizes.LAPIC_STATE);
        buf.write(0, state, 0, state.length);
        fd.ioctl(KvmAbi.KVM_SET_LAPIC, buf);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                run.close();
            } finally {
                fd.close();
                vm.forget(this);
            }
        }
    }

    @Override
    public String toString() {
        return "vcpu " + id + " of " + vm;
    }
}
