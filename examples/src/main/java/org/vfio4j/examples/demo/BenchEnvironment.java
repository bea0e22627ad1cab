package org.vfio4j.examples.demo;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a benchmark run ran on, so that its numbers can be put in context: versions (kernel, QEMU, JDK and its flags
 * and collectors, gcc, the vfio4j commit), the CPU, and the machine's load average, which says what else was running.
 */
final class BenchEnvironment {
    private BenchEnvironment() {
    }

    /** The lines describing this machine and the software under test. */
    static List<String> describe(String compiler) {
        List<String> out = new ArrayList<>();
        out.add("date: " + Instant.now().truncatedTo(ChronoUnit.SECONDS));
        out.add("host kernel: " + read("/proc/sys/kernel/osrelease"));
        out.add("CPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " online");
        out.add("QEMU: " + firstLine(List.of("qemu-system-x86_64", "--version")));
        out.add("JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + "; flags " + ManagementFactory.getRuntimeMXBean().getInputArguments() + "; collectors "
                + ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                        .toList());
        out.add("floor compiler: " + (compiler == null ? "none (no floor)" : compiler));
        String commit = firstLine(List.of("git", "rev-parse", "--short", "HEAD"));
        String dirty = firstLine(List.of("git", "status", "--porcelain", "--untracked-files=no"));
        out.add("vfio4j commit: " + commit + (dirty.isEmpty() || commit.startsWith("(") ? "" : " + uncommitted changes"));
        return out;
    }

    /** The 1, 5 and 15 minute load averages and the running/total task counts, as the kernel reports them. */
    static String loadAverage() {
        return read("/proc/loadavg");
    }

    /**
     * The JVM's collector and JIT counters now, to be subtracted: a run during which no collection happened and the
     * JIT compiled nothing (or next to nothing) ran in the settled state.
     */
    record JvmCounters(long gcCount, long gcMillis, long jitMillis) {
        static JvmCounters now() {
            long count = 0;
            long millis = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                count += Math.max(0, gc.getCollectionCount());
                millis += Math.max(0, gc.getCollectionTime());
            }
            var jit = ManagementFactory.getCompilationMXBean();
            long jitMillis = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime()
                    : -1;
            return new JvmCounters(count, millis, jitMillis);
        }

        JvmCounters since(JvmCounters before) {
            return new JvmCounters(gcCount - before.gcCount, gcMillis - before.gcMillis,
                    jitMillis < 0 ? -1 : jitMillis - before.jitMillis);
        }

        @Override
        public String toString() {
            return gcCount + " GC (" + gcMillis + " ms), JIT " + (jitMillis < 0 ? "n/a" : jitMillis + " ms");
        }
    }

    /**
     * Waits until the JIT compilers have finished nothing for {@code quietMillis} (their total compilation time stayed
     * the same), at most {@code maxMillis}: the compilations that machine creation and attach queued (that code runs
     * once per machine, so it crosses the compile thresholds in later rounds) then no longer run during the guest.
     *
     * @return how long it waited, in milliseconds
     */
    static long awaitJitQuiet(long quietMillis, long maxMillis) throws InterruptedException {
        var jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return 0;
        }
        long start = System.nanoTime();
        long last = jit.getTotalCompilationTime();
        long quietSince = start;
        while (true) {
            long now = System.nanoTime();
            if (now - quietSince >= quietMillis * 1_000_000L || now - start >= maxMillis * 1_000_000L) {
                return (now - start) / 1_000_000L;
            }
            Thread.sleep(20);
            long total = jit.getTotalCompilationTime();
            if (total != last) {
                last = total;
                quietSince = System.nanoTime();
            }
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).trim();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String firstLine(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return "(" + String.join(" ", command) + " failed)";
            }
            return out.lines().findFirst().orElse("").trim();
        } catch (IOException e) {
            return "(" + command.get(0) + " not found)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }
}
