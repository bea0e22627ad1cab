package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.testing.GuestCode;

/**
 * A KVM VM with 512 KiB of RAM at guest address 0, guest code loaded at {@link #CODE}, and port 0xf0-0xff wired to
 * queues so a test can wait for the guest to say something ("ready", "done", a value). Test-only.
 */
final class GuestRig implements AutoCloseable {
    static final long RAM_SIZE = 0x80000;
    static final long CODE = 0x1000;
    /** Ports the guest reports through: {@code out} to one of these lands in {@link #reports}. */
    static final int REPORT_BASE = 0xf0;

    final KvmVmm vmm;
    final KvmVcpu vcpu;
    final BlockingQueue<long[]> reports = new LinkedBlockingQueue<>();
    VcpuThread thread;

    static void assumeKvm() {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        assumeTrue(GuestCode.available(), "binutils (as/ld/objcopy) not available");
    }

    GuestRig(boolean irqchip) {
        vmm = KvmVmm.create(Syscalls.linux(), new KvmVmm.Config(irqchip));
        try {
            vmm.guestMemory().addRam(0, RAM_SIZE, "low");
            vcpu = vmm.createVcpu(0);
            vmm.pioBus().register(REPORT_BASE, 16, new TrapHandler() {
                @Override
                public long read(long offset, int size) {
                    return TrapHandler.allOnes(size);
                }

                @Override
                public void write(long offset, int size, long value) {
                    reports.add(new long[] {REPORT_BASE + offset, value});
                }
            }, "test reports");
        } catch (RuntimeException e) {
            vmm.close();
            throw e;
        }
    }

    /** Loads 16-bit code at {@link #CODE} and starts it in real mode (CS=DS=SS=0, SP=0x7000). */
    GuestRig startReal(String asm) {
        vmm.guestMemory().write(CODE, GuestCode.assemble16(asm, CODE));
        GuestStart.realMode(vcpu, 0, (int) CODE, 0, 0x7000);
        thread = vmm.start(vcpu);
        return this;
    }

    /** Loads 32-bit code at {@link #CODE} and starts it in flat protected mode (ESP=0x7000). */
    GuestRig startFlat32(String asm) {
        vmm.guestMemory().write(CODE, GuestCode.assemble32(asm, CODE));
        GuestStart.flat32(vcpu, CODE, 0x7000);
        thread = vmm.start(vcpu);
        return this;
    }

    /** Waits for the next report on {@code port} and returns its value; fails the test if the guest goes quiet. */
    long awaitReport(int port) throws InterruptedException {
        while (true) {
            long[] r = reports.poll(20, TimeUnit.SECONDS);
            assertNotNull(r, () -> "guest sent nothing to port 0x" + Integer.toHexString(port) + "; vcpu "
                    + (thread == null ? "not started" : thread.stopped().getNow(null) + " exits "
                    + thread.exitCounts()));
            if (r[0] == port) {
                return r[1];
            }
        }
    }

    @Override
    public void close() {
        vmm.close();
    }
}
