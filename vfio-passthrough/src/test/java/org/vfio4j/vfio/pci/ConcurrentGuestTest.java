package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.sun.jna.Memory;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.VcpuStop;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.testing.CProbe;
import org.vfio4j.core.testing.GuestCode;

/**
 * Four vCPUs of flat 32-bit programs on this host's /dev/kvm hammer one passthrough function (trapped BAR and I/O
 * BAR accesses, MSI-X masking and table writes, BAR moves, decode and D3hot toggles through CF8/CFC, mapped BAR
 * reads) while the host resets it, releases it as on a REQ, and closes the VM (issue 15). No vCPU may end in error,
 * nothing may deadlock (a bounded wait fails with a thread dump), no call may name a closed fd, and nothing may be
 * left.
 */
class ConcurrentGuestTest {
    static final int VCPUS = 4;
    /** linux/kvm.h: _IOW(KVMIO, 0x99, struct kvm_mp_state), and the runnable state (checked by a probe below). */
    static final long KVM_SET_MP_STATE = 0x4004ae99L;
    static final int KVM_MP_STATE_RUNNABLE = 0;
    static final long WAIT_SECONDS = 120;
    /**
     * Iterations per progress report, minus one, per vCPU. vCPU 2's iterations change memslots (decode and D3hot
     * toggles) and vCPU 1's change MSI routes and irqfds, which costs KVM an SRCU grace period each, so they report
     * more often.
     */
    static final int[] MASKS = {0x3ff, 0x3f, 0x3, 0x3ff};

    @TempDir
    Path tmp;
    PassthroughRig rig;
    final List<VcpuThread> vcpus = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (rig != null) {
            rig.close();
        }
    }

    /** Counts each vCPU's progress reports (port 0xf0 + id). */
    static final class Progress implements TrapHandler {
        final AtomicLongArray reports = new AtomicLongArray(16);

        @Override
        public long read(long offset, int size) {
            return TrapHandler.allOnes(size);
        }

        @Override
        public void write(long offset, int size, long value) {
            reports.incrementAndGet((int) offset);
        }

        /** Waits until every vCPU reported {@code more} more times. */
        void advance(int more, String while_) {
            long[] start = new long[VCPUS];
            for (int i = 0; i < VCPUS; i++) {
                start[i] = reports.get(i);
            }
            waitFor(() -> {
                for (int i = 0; i < VCPUS; i++) {
                    if (reports.get(i) < start[i] + more) {
                        return false;
                    }
                }
                return true;
            }, "every vCPU makes progress " + while_ + " (reports " + reports + ")");
        }
    }

    static void waitFor(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("no progress after " + WAIT_SECONDS + " s: " + what + " (deadlock?)\n" + threadDump());
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    static String threadDump() {
        StringBuilder out = new StringBuilder();
        for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            out.append(t);
        }
        return out.toString();
    }

    /** Counts loop iterations in ecx and reports every (mask + 1) of them on port 0xf0 + the vCPU's id. */
    private static final String REPORT = """
                inc %%ecx
                test $0x%x, %%ecx
                jnz 1b
                outl %%eax, $0x%x
                jmp 1b
            """;

    @Test
    void mpStateConstantsMatchTheHeader() throws Exception {
        assumeTrue(CProbe.gccAvailable(), "gcc not available");
        assertEquals(java.util.Map.of("set", KVM_SET_MP_STATE, "runnable", (long) KVM_MP_STATE_RUNNABLE),
                CProbe.evaluate(List.of("linux/kvm.h"), java.util.Map.of("set", "KVM_SET_MP_STATE", "runnable",
                        "KVM_MP_STATE_RUNNABLE")));
    }

    @Test
    void fourVcpusHammerTheDeviceWhileTheHostResetsReleasesAndCloses() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        rig = new PassthroughRig(tmp, r -> r.device.modelMemoryEnable(0x40));
        VfioPciDevice dev = rig.attach();
        rig.cfgWrite(0x10, 4, 0xe0000000L);
        rig.cfgWrite(0x14, 4, 0);
        rig.cfgWrite(0x18, 4, 0xc000);
        rig.cfgWrite(0x24, 4, 0xe0016000L);
        rig.cfgWrite(0x04, 2, 7);
        rig.cfgWrite(PassthroughRig.MSIX_CAP + 2, 2, 0x8000);
        rig.kvm.pioBus().register(0xcf8, 8, rig.host.mechanism1(), "CF8/CFC");
        Progress progress = new Progress();
        rig.kvm.pioBus().register(0xf0, 16, progress, "progress");
        String[] programs = {
            // trapped BAR5 (it moves) and the I/O BAR
            """
                xor %ecx, %ecx
                1: mov 0xe0016004, %eax
                movl %ecx, 0xe0016008
                mov $0xc004, %dx
                inl %dx, %eax
            """ + REPORT.formatted(MASKS[0], 0xf0),
            // MSI-X table: program, unmask and mask vectors 1 and 5 (vector 5 makes VFIO grow). The data word changes
            // every time but stays a fixed-delivery vector 0x40-0x7f: a counter's raw value reaches INIT and SIPI
            // delivery modes, and an interrupt that fired then reset vCPU 0 to the reset vector (seen once in CI).
            """
                xor %ecx, %ecx
                1: movl $0xfee00000, 0xe0002010
                mov %ecx, %eax
                and $0x3f, %eax
                or $0x40, %eax
                movl %eax, 0xe0002018
                movl $0, 0xe000201c
                movl $0xfee00000, 0xe0002050
                movl $0, 0xe000205c
                movl $1, 0xe000201c
                movl $1, 0xe000205c
            """ + REPORT.formatted(MASKS[1], 0xf1),
            // CF8/CFC: move BAR5 away and back, decode off and on, D3hot and back
            """
                xor %ecx, %ecx
                1: mov $0x80002024, %eax
                mov $0xcf8, %dx
                outl %eax, %dx
                mov $0xcfc, %dx
                mov $0xe0018000, %eax
                outl %eax, %dx
                mov $0xe0016000, %eax
                outl %eax, %dx
                mov $0x80002004, %eax
                mov $0xcf8, %dx
                outl %eax, %dx
                mov $0xcfc, %dx
                xor %eax, %eax
                outw %ax, %dx
                mov $7, %eax
                outw %ax, %dx
                mov $0x80002044, %eax
                mov $0xcf8, %dx
                outl %eax, %dx
                mov $0xcfc, %dx
                mov $3, %eax
                outw %ax, %dx
                xor %eax, %eax
                outw %ax, %dx
            """ + REPORT.formatted(MASKS[2], 0xf2),
            // the mapped part of BAR0 (a memslot when the device answers, trapped when not)
            """
                xor %ecx, %ecx
                1: mov 0xe0000010, %eax
                mov 0xe0004000, %eax
            """ + REPORT.formatted(MASKS[3], 0xf3),
        };
        for (int i = 0; i < VCPUS; i++) {
            long at = 0x10000L + 0x1000L * i;
            rig.kvm.guestMemory().write(at, GuestCode.assemble32(programs[i], at));
            KvmVcpu v = rig.kvm.createVcpu(i);
            GuestStart.flat32(v, at, 0x9000 + 0x400 * i);
            if (i > 0) {
                // With the in-kernel LAPIC an AP waits for INIT/SIPI; these start where they were put.
                Memory mp = new Memory(4);
                mp.setInt(0, KVM_MP_STATE_RUNNABLE);
                v.fd().ioctl(new Ioctl("KVM_SET_MP_STATE", KVM_SET_MP_STATE), mp);
            }
            vcpus.add(rig.kvm.start(v));
        }
        progress.advance(4, "before the host acts");
        for (int i = 0; i < 3; i++) {
            try {
                dev.reset();
            } catch (IllegalStateException e) {
                fail("reset refused: " + e);
            }
            rig.kernel.raise(rig.device, VFIO_PCI_MSIX_IRQ_INDEX, 1);
            progress.advance(2, "after reset " + i);
        }
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_REQ_IRQ_INDEX, 0), "REQ");
        waitFor(() -> !dev.isAttached() && rig.kernel.openFakeFds() == 0, "the REQ release");
        progress.advance(4, "after the release");
        rig.kvm.close();
        List<String> failed = new ArrayList<>();
        for (VcpuThread t : vcpus) {
            VcpuStop stop;
            try {
                stop = t.stopped().get(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fail("vCPU did not stop after VM close\n" + threadDump());
                return;
            }
            if (stop.cause() != VcpuStop.Cause.REQUESTED) {
                failed.add(stop.toString());
            }
        }
        assertEquals(List.of(), failed, "every vCPU ran until the VM was closed");
        assertEquals(0, rig.kernel.closedFdCalls(), () -> "no call on a closed fd:\n" + rig.kernel.closedFdCallSites());
        assertEquals(0, rig.kernel.openFakeFds());
        assertEquals(0, rig.kernel.liveMmaps());
        assertEquals(0, rig.kernel.liveDmaMappings() + rig.kernel.droppedDmaMappings());
        assertEquals(0, rig.vmm.liveSlots.get());
        long[] counts = new long[VCPUS];
        for (int i = 0; i < VCPUS; i++) {
            counts[i] = progress.reports.get(i) * (MASKS[i] + 1);
        }
        System.out.println("concurrency: " + VCPUS + " vCPUs, loop iterations per vCPU " + Arrays.toString(counts));
    }
}
