package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * Attach and detach edu 100 times on one machine. Nothing may leak: file descriptors (/proc/self/fd), memslots,
 * threads (the device's event loop), and DMA mappings. A detached device's container is gone with it, so DMA
 * mappings are checked where they can be seen: while attached, the container's DMA-available count is the same on
 * every round (the mappings of earlier rounds are not still counted), and after detach the pages the IOMMU pinned
 * are unpinned again (VmLck, the process's locked memory, which type1 charges for pinned pages, returns to its
 * starting value; the test checks it does rise by the RAM size while attached).
 */
@Tag("testbed")
class AttachDetachLifecycleTest {
    private static final int ROUNDS = 100;
    private static final long RAM = 4L << 20;

    @Test
    void attachAndDetach100TimesLeaksNothing() throws Exception {
        String bdf = TestbedDevices.bdf("edu");
        Vfio vfio = Vfio.host();
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            // One round first, so lazily created process-wide things (JNA, the loop's thread pool classes) exist.
            attachOnce(vfio, m, bdf).close();
            Set<String> fdsBefore = openFds();
            int slotsBefore = m.vmm().deviceMemory().slotsAvailable();
            long lockedBefore = lockedKib();
            nettyGlobalExecutorIdle();
            Set<Long> threadsBefore = threadIds();
            long dmaAvailableAttached = -1;
            for (int i = 0; i < ROUNDS; i++) {
                VfioPciDevice d = attachOnce(vfio, m, bdf);
                try {
                    assertTrue(d.isAttached());
                    assertEquals(m.ramBytes(), d.counters().dmaMappedBytes(), "round " + i);
                    long available = d.dmaAvailable().orElse(-2); // -2: iommufd, which has no such counter
                    if (i == 0) {
                        dmaAvailableAttached = available;
                        assertTrue(lockedKib() >= lockedBefore + m.ramBytes() / 1024,
                                "attached, guest RAM is pinned (VmLck+VmPin " + lockedKib() + " kB, before "
                                        + lockedBefore + " kB)");
                    }
                    assertEquals(dmaAvailableAttached, available, "DMA-available while attached, round " + i);
                } finally {
                    d.detach();
                }
                assertFalse(d.isAttached());
                d.detach();
            }
            assertEquals(slotsBefore, m.vmm().deviceMemory().slotsAvailable(), "memslots");
            assertEquals(lockedBefore, lockedKib(), "pinned (locked) memory after " + ROUNDS + " detaches");
            assertEquals(fdsBefore, openFds(), "file descriptors after " + ROUNDS + " rounds");
            nettyGlobalExecutorIdle();
            // Netty's process-wide GlobalEventExecutor runs a thread on demand (shutting an event loop down uses
            // it) that ends by itself a second after its last task; it belongs to no device. Wait until it has.
            assertTrue(GlobalEventExecutor.INSTANCE.awaitInactivity(2, TimeUnit.MINUTES), "Netty's global executor");
            assertEquals(List.of(), newThreads(threadsBefore), "threads started and left running by " + ROUNDS
                    + " rounds");
            System.out.printf("%d rounds: fds %d, memslots available %d, VmLck %d kB, DMA available while attached "
                    + "%d%n", ROUNDS, fdsBefore.size(), slotsBefore, lockedBefore, dmaAvailableAttached);
        }
    }

    /**
     * Netty notifies an event loop's termination listeners on its process-wide GlobalEventExecutor, whose one thread
     * starts on demand and ends by itself after a second without work; whether it is alive at a snapshot depends on
     * timing (under load, it ended and restarted between the snapshots). Wait for it to end before each snapshot.
     */
    private static void nettyGlobalExecutorIdle() throws InterruptedException {
        assertTrue(GlobalEventExecutor.INSTANCE.awaitInactivity(30, TimeUnit.SECONDS),
                "Netty's global event executor still busy after 30 s");
    }

    private static VfioPciDevice attachOnce(Vfio vfio, GuestMachine m, String bdf) {
        return VfioPciDevice.attach(vfio, m.vmm(), m.pciBus(),
                VfioPciOptions.builder(bdf).slot(PassthroughSession.SLOT).build());
    }

    /** The open descriptors of this process but jar files, each as "number -> target". */
    static Set<String> openFds() {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    if (!target.endsWith(".jar")) { // class loading may open a jar late; that is not a leak
                        out.add(p.getFileName() + " -> " + target);
                    }
                } catch (IOException gone) {
                    // the directory stream's own descriptor, closed by now
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * VmLck + VmPin from /proc/self/status, in kB: type1 accounts pinned DMA pages as locked, iommufd as pinned.
     */
    private static long lockedKib() {
        long kib = 0;
        int found = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmLck:") || line.startsWith("VmPin:")) {
                    kib += Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                    found++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (found != 2) {
            throw new AssertionError("no VmLck/VmPin in /proc/self/status");
        }
        return kib;
    }

    /** The ids of the live Java threads. */
    private static Set<Long> threadIds() {
        Set<Long> ids = new TreeSet<>();
        Thread.getAllStackTraces().keySet().forEach(t -> ids.add(t.getId()));
        return ids;
    }

    /**
     * Threads alive now that were not in {@code before}, by name, except the JDK's own on-demand helpers (the
     * process reaper of earlier tests' subprocesses, the common fork-join pool), which come and go by themselves.
     */
    private static List<String> newThreads(Set<Long> before) {
        List<String> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String name = t.getName();
            if (!before.contains(t.getId()) && t.isAlive() && !name.equals("process reaper")
                    && !name.startsWith("ForkJoinPool.commonPool")) {
                out.add(name);
            }
        }
        return out;
    }
}
