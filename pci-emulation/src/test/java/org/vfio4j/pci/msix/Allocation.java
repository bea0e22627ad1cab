package org.vfio4j.pci.msix;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;

/**
 * Heap bytes the current thread allocates while running an action many times, from HotSpot's per-thread allocation
 * counter ({@code com.sun.management.ThreadMXBean}). Test-only.
 */
final class Allocation {
    private Allocation() {
    }

    /**
     * Runs {@code action} {@code n} times per window, in 5 windows after 2 warm-up windows, and returns the fewest
     * bytes any window allocated. An action that allocates on every call allocates at least 16 bytes (one object) per
     * call in every window; a window can still catch a one-off allocation by the JVM on this thread (a compilation
     * switching the loop to compiled code), which is why the least window counts.
     */
    static long leastPerWindow(int n, Runnable action) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter in this JVM");
        mx.setThreadAllocatedMemoryEnabled(true);
        long least = Long.MAX_VALUE;
        for (int w = 0; w < 7; w++) {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < n; i++) {
                action.run();
            }
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            if (w >= 2) {
                least = Math.min(least, bytes);
            }
        }
        return least;
    }
}
