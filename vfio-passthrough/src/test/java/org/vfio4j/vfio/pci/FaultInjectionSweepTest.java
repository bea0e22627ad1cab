package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.kvm.GsiRoute;
import org.vfio4j.core.kvm.KvmInterruptController;
import org.vfio4j.core.sys.Errno;

/**
 * Fault injection (issue 15): the k-th system call of a whole device life (attach, guest programming, host reset,
 * guest FLR, detach) fails, for every k, with EIO, ENOMEM, EMFILE, ENOSPC or a thrown Error. After each run: no
 * fake fd, real fd (eventfds), mmap, memslot, DMA mapping, KVM-VFIO registration, MSI route, trap or thread is
 * left, no exception other than the injected Error escaped a guest access, and a fresh attach succeeds.
 *
 * <p>The normal build fails every call site once, the failure kind rotating with k; {@code -Dvfio4j.faults=all}
 * (the {@code fuzz} profile) fails every call site with every kind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultInjectionSweepTest {
    static final long BAR0 = 0xe0000000L;
    static final long BAR5 = 0xe0016000L;
    static final int MSI = PassthroughRig.MSI_CAP;
    static final int MSIX = PassthroughRig.MSIX_CAP;
    static final int PCIE = PassthroughRig.PCIE_CAP;
    static final int EMFILE = 24; // asm-generic/errno-base.h
    static final int[] ERRNOS = {Errno.EIO, Errno.ENOMEM, EMFILE, Errno.ENOSPC};

    @TempDir
    static Path tmp;
    PassthroughRig rig;
    EventLoop loop;
    int baselineFds;
    Set<String> baselineThreads;

    @BeforeAll
    void rig() {
        rig = new PassthroughRig(tmp, r -> {
            r.device.modelMemoryEnable(0x40);
            r.config.buffer().putInt(PCIE + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR);
        });
        loop = new EventLoop(1);
        VfioPciDevice warm = attach();
        life(warm, new ArrayList<>());
        warm.detach();
        baselineFds = realFds();
        baselineThreads = threads();
    }

    @AfterAll
    void close() {
        loop.close();
        rig.close();
    }

    private VfioPciDevice attach() {
        return rig.attach(b -> b.eventLoop(loop));
    }

    /** What a guest and its VMM do with the device between attach and detach. Guest accesses never throw. */
    private void life(VfioPciDevice dev, List<Throwable> escaped) {
        guest(escaped, () -> {
            rig.cfgWrite(0x10, 4, BAR0);
            rig.cfgWrite(0x14, 4, 0);
            rig.cfgWrite(0x18, 4, 0xc000);
            rig.cfgWrite(0x1C, 4, 0xe0010000L);
            rig.cfgWrite(0x20, 4, 0xe0014000L);
            rig.cfgWrite(0x24, 4, BAR5);
            rig.cfgWrite(0x30, 4, 0xe0020001L);
            rig.cfgWrite(0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        });
        guest(escaped, () -> {
            rig.kvm.mmioBus().read(BAR5 + 4, 4);
            rig.kvm.mmioBus().write(BAR5 + 8, 4, 1);
            rig.kvm.pioBus().read(0xc004, 2);
            rig.kvm.mmioBus().read(BAR0 + 0x1FFC, 8);
            rig.cfgRead(0x40, 4);
            rig.cfgWrite(0x40 + 4, 2, 3); // D3hot
            rig.kvm.mmioBus().read(BAR0 + 0x10, 4);
            rig.cfgWrite(0x40 + 4, 2, 0);
        });
        guest(escaped, () -> {
            rig.cfgWrite(MSI + 4, 4, 0xfee00000L);
            rig.cfgWrite(MSI + 12, 2, 0x41);
            rig.cfgWrite(MSI + 2, 2, 0x0021); // enable, 2 vectors
            rig.kernel.raise(rig.device, VFIO_PCI_MSI_IRQ_INDEX, 0);
            rig.cfgWrite(MSI + 2, 2, 0);
        });
        guest(escaped, () -> {
            rig.cfgWrite(MSIX + 2, 2, 0x8000);
            for (int v : new int[] {0, 3}) {
                long e = BAR0 + 0x2000 + 16L * v;
                rig.kvm.mmioBus().write(e, 4, 0xfee00000L);
                rig.kvm.mmioBus().write(e + 8, 4, 0x50 + v);
                rig.kvm.mmioBus().write(e + 12, 4, 0);
            }
            rig.kernel.raise(rig.device, VFIO_PCI_MSIX_IRQ_INDEX, 3);
            rig.kvm.mmioBus().write(BAR0 + 0x2000 + 12, 4, 1);
            rig.kvm.mmioBus().read(BAR0 + 0x3000, 8);
        });
        try {
            dev.reset();
        } catch (RuntimeException | Error e) {
            // the host's call: it may fail
        }
        guest(escaped, () -> {
            rig.cfgWrite(0x10, 4, 0xe0100000L); // a BAR move
            rig.cfgWrite(PCIE + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
            rig.cfgWrite(0x04, 2, 0);
        });
    }

    private static void guest(List<Throwable> escaped, Runnable accesses) {
        try {
            accesses.run();
        } catch (RuntimeException | Error e) {
            escaped.add(e);
        }
    }

    /** Open anonymous-inode fds (eventfds, KVM objects): what the device creates in the real kernel. */
    private static int realFds() {
        return (int) fdTargets().stream().filter(t -> t.contains("anon_inode:")).count();
    }

    /** What the open fds point to, for a leak report. */
    private static List<String> fdTargets() {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    out.add(p.getFileName() + "->" + Files.readSymbolicLink(p));
                } catch (IOException e) {
                    out.add(p.getFileName() + "->?");
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static Set<String> threads() {
        Set<String> out = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("vfio4j")) {
                out.add(t.getName());
            }
        }
        return out;
    }

    /** One device life with the k-th call failing; returns what was left, or "" when nothing. */
    private String runWithFault(long k, String kind, Supplier<Runnable> arm) {
        List<Throwable> escaped = new ArrayList<>();
        arm.get().run();
        VfioPciDevice dev = null;
        try {
            dev = attach();
        } catch (RuntimeException | Error e) {
            // attach may fail; it must have released everything
        }
        if (dev != null) {
            life(dev, escaped);
            try {
                dev.detach();
            } catch (RuntimeException | Error e) {
                // detach reports the failure after releasing the rest
            }
        }
        List<String> failedCalls = rig.faults.failed();
        String site = failedCalls.isEmpty() ? "none" : failedCalls.get(failedCalls.size() - 1);
        rig.faults.disarm();
        List<String> left = new ArrayList<>();
        for (Throwable t : escaped) {
            if (!(t instanceof InjectedError)) {
                left.add("escaped a guest access: " + t);
            }
        }
        check(left, "fake fds", rig.kernel.openFakeFds());
        check(left, "mmaps", rig.kernel.liveMmaps());
        check(left, "DMA mappings", rig.kernel.liveDmaMappings() + rig.kernel.droppedDmaMappings());
        check(left, "memslots", rig.vmm.liveSlots.get());
        check(left, "MMIO traps", rig.kvm.mmioBus().registrations().size());
        check(left, "PIO traps", rig.kvm.pioBus().registrations().size());
        check(left, "guest bus", rig.host.rootBus().function(4, 0) == null ? 0 : 1);
        check(left, "MSI routes", ((KvmInterruptController) rig.kvm.interrupts()).routingTable().stream()
                .filter(r -> r instanceof GsiRoute.Msi).count());
        long adds = rig.vmm.groupEvents.stream().filter(s -> s.startsWith("add")).count();
        long dels = rig.vmm.groupEvents.stream().filter(s -> s.startsWith("del")).count();
        check(left, "KVM-VFIO registrations", adds - dels);
        for (int i = 0; i < 200 && realFds() != baselineFds; i++) {
            sleep(); // a close deferred until a call in flight on the event loop returns
        }
        if (realFds() != baselineFds) {
            left.add("real fds now " + fdTargets().stream().filter(t -> t.contains("anon_inode:")).toList());
        }
        Set<String> extra = threads();
        extra.removeAll(baselineThreads);
        for (int i = 0; i < 200 && !extra.isEmpty(); i++) { // a released thread may take a moment to end
            sleep();
            extra = threads();
            extra.removeAll(baselineThreads);
        }
        if (!extra.isEmpty()) {
            left.add("threads " + extra);
        }
        try {
            VfioPciDevice fresh = attach();
            fresh.detach();
        } catch (RuntimeException | Error e) {
            left.add("a fresh attach failed: " + e);
        }
        if (!left.isEmpty()) {
            baselineFds = realFds(); // report each leak once, not again in every later run
        }
        return left.isEmpty() ? "" : "call " + k + " (" + site + ") failing with " + kind + " left " + left;
    }

    private static void sleep() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void check(List<String> left, String what, long count) {
        if (count != 0) {
            left.add(what + " " + count);
        }
    }

    /** The Error the sweep throws (stands for OutOfMemoryError, UnsatisfiedLinkError). */
    static final class InjectedError extends Error {
        InjectedError() {
            super("injected by the fault sweep", null, false, false);
        }
    }

    @Test
    void everyFailingCallSiteLeavesNothingBehind() {
        rig.faults.disarm();
        VfioPciDevice dev = attach();
        life(dev, new ArrayList<>());
        dev.detach();
        long calls = rig.faults.calls();
        assertTrue(calls > 100, "a device life makes " + calls + " system calls");
        boolean all = "all".equals(System.getProperty("vfio4j.faults"));
        List<String> problems = new ArrayList<>();
        int runs = 0;
        long from = Long.getLong("vfio4j.faults.from", 1);
        for (long k = from; k <= calls; k++) {
            for (int kind = 0; kind <= ERRNOS.length; kind++) {
                if (!all && kind != k % (ERRNOS.length + 1)) {
                    continue;
                }
                long kk = k;
                String name;
                Supplier<Runnable> arm;
                if (kind == ERRNOS.length) {
                    name = "Error";
                    arm = () -> () -> rig.faults.armError(kk, InjectedError::new);
                } else {
                    int errno = ERRNOS[kind];
                    name = Errno.name(errno);
                    arm = () -> () -> rig.faults.arm(kk, errno);
                }
                String p = runWithFault(k, name, arm);
                runs++;
                if (!p.isEmpty()) {
                    problems.add(p);
                }
            }
        }
        System.out.printf("fault sweep: %d call sites, %d runs, %d with leftovers%n", calls, runs, problems.size());
        assertEquals(List.of(), problems.subList(0, Math.min(20, problems.size())), problems.size() + " runs left "
                + "something behind");
    }
}
