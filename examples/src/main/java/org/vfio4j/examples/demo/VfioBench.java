package org.vfio4j.examples.demo;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.refvmm.flat.GuestOutput;
import org.vfio4j.refvmm.flat.QemuGuestRunner;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.sysfs.Sysfs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vfio4j-bench}: runs the {@code bench} guest program (one 64 KiB image, the guest's BIOS) under vfio4j's
 * {@link GuestMachine}, under QEMU ({@code -accel kvm -bios bench.bin -device vfio-pci,host=...}) on the same host
 * devices, and under the floor ({@link FloorVmm}: a C VMM that only answers the exits, for the host bridge's config
 * reads), back to back in each round (the order rotating from round to round), and prints the time per operation of
 * each path (TSC cycles measured by the guest: the mean over N operations and the per-operation p50/p99/max), the
 * per-round ratios between the VMMs (median and range over the rounds: paired, not a ratio of medians), the KVM exits
 * per operation, the JVM's collections and JIT time during each vfio4j run, and the versions and load of the machine.
 * Exits come from vfio4j's own counters (exits to the VMM) and, for every VMM alike, from a separate traced run
 * ({@link KvmTrace}: every exit, and exits to the VMM process).
 *
 * <p>Exit codes: 0 every run completed (whatever the ratios); 1 a run failed; 2 usage error (no device found).
 */
@Command(name = "vfio4j-bench", mixinStandardHelpOptions = true, version = "vfio4j-bench 0.1.0",
        description = "Times passthrough paths under vfio4j and under QEMU's vfio-pci with the same guest program.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every run completed", "1:a run failed", "2:usage error or no device found"})
public final class VfioBench implements Callable<Integer> {
    /** The measured operations, in table order, with what each one is. */
    static final Map<String, String> OPS = new LinkedHashMap<>();

    static {
        OPS.put("mapped", "(a) edu BAR0 id read, directly mapped");
        OPS.put("confighb", "(b0) host bridge config read through CF8/CFC (trapped, emulated by every VMM)");
        OPS.put("config", "(b) edu config read through CF8/CFC (trapped)");
        OPS.put("msix", "(c) nvme MSI-X table write (trapped)");
        OPS.put("ioport", "(d) e1000e I/O BAR IODATA read (trapped)");
        OPS.put("msi", "(e) edu MSI round trip (raise -> handler)");
    }

    /** The id of each device the program drives ({@code bench.s} finds them by it), for finding them on vfio-pci. */
    static final Map<String, String> PCI_IDS = Map.of("edu", VfioDemo.EDU_ID, "nvme", "1b36:0010", "e1000e",
            "8086:10d3");
    /** Guest RAM for both VMMs (MiB). */
    static final int RAM_MIB = 64;
    private static final Duration LIMIT = Duration.ofMinutes(10);
    /** Rounds of the start-up-from-exec row at most: a cold JVM takes half a minute under the testbed's TCG. */
    private static final int EXEC_ROUNDS = 5;

    @Option(names = "--edu", description = "host BDF of the edu device (default: the first 1234:11e8 bound to "
            + "vfio-pci, as in the testbed)")
    String edu;
    @Option(names = "--nvme", description = "host BDF of the nvme device (default: the first 1b36:0010 bound to "
            + "vfio-pci, as in the testbed)")
    String nvme;
    @Option(names = "--e1000e", description = "host BDF of the e1000e device (default: the first 8086:10d3 bound to "
            + "vfio-pci, as in the testbed)")
    String e1000e;
    @Option(names = "--rounds", description = "timed rounds; each runs every VMM once, back to back "
            + "(default ${DEFAULT-VALUE})")
    int rounds = 10;
    @Option(names = "--warmup", description = "untimed runs of each VMM first, so that vfio4j's JIT has compiled "
            + "its exit path as in a VMM that has been running for a while (default ${DEFAULT-VALUE})")
    int warmup = 3;
    @Option(names = "--ops", description = "operations per trapped measurement (mapped reads: 10x, MSI round "
            + "trips: 1/4) (default ${DEFAULT-VALUE})")
    int ops = 2000;
    @Option(names = "--no-trace", description = "skip the traced runs that count exits for every VMM")
    boolean noTrace;
    @Option(names = "--no-floor", description = "do not build and run the C floor VMM")
    boolean noFloor;
    @Option(names = "--cf8-exits", negatable = true, description = "also run vfio4j and the floor with 0xcf8 writes "
            + "exiting (two exits per CF8/CFC access, no coalescing), for comparing like with like against a VMM "
            + "that does not coalesce them (default: on with --without-devices)")
    Boolean cf8Exits;
    @Option(names = "--without-devices", description = "run with no device (on a host without VFIO devices): only "
            + "the config reads are timed, on the host bridge at 00:00.0, which both VMMs emulate")
    boolean withoutDevices;
    @Option(names = "--markdown", description = "also write the table as Markdown to this file")
    Path markdown;
    @Option(names = "--jit-quiet-ms", description = "before each vfio4j guest run, wait until the JIT has finished "
            + "no compilation for this long (at most 10 s), as in a VMM that has been running; 0: do not wait "
            + "(default ${DEFAULT-VALUE})")
    long jitQuietMillis = 500;

    private final PrintWriter out;

    /** A command printing to {@code out}. */
    public VfioBench(PrintWriter out) {
        this.out = out;
    }

    /** The VMMs, by the name the tables use. */
    static final String VFIO4J = "vfio4j";
    static final String QEMU = "QEMU";
    static final String FLOOR = "floor";
    static final String VFIO4J_CF8 = "vfio4j, 0xcf8 exits";
    static final String FLOOR_CF8 = "floor, 0xcf8 exits";
    /** The per-round ratios reported, numerator and denominator (each when both VMMs ran). */
    static final List<String[]> PAIRS = List.of(new String[] {VFIO4J, QEMU}, new String[] {VFIO4J, FLOOR},
            new String[] {QEMU, FLOOR}, new String[] {QEMU, FLOOR_CF8}, new String[] {VFIO4J_CF8, QEMU},
            new String[] {VFIO4J_CF8, FLOOR_CF8});

    /**
     * One run of one VMM.
     *
     * @param attach vfio4j's attach time of all devices (null for the other VMMs)
     * @param toFirstOutput from the start to the guest's first debugcon byte (null when not measured)
     * @param jvm the JVM's collections and JIT time during a vfio4j run (null for the other VMMs)
     * @param jitWaitMillis how long the vfio4j run waited for the JIT to go quiet before the guest started (0 for the
     *     other VMMs)
     */
    record Run(String vmm, GuestMachine.GuestRun guest, Duration attach, Duration toFirstOutput,
            BenchEnvironment.JvmCounters jvm, long jitWaitMillis) {
        long cycles(String op) {
            return guest.result(op + ".cycles").value();
        }

        long p50(String op) {
            return guest.result(op + ".p50").value();
        }

        long p99(String op) {
            return guest.result(op + ".p99").value();
        }

        long max(String op) {
            return guest.result(op + ".max").value();
        }

        /** The mean cycles of the fastest 90 % of the operations. */
        long t90(String op) {
            return guest.result(op + ".t90").value();
        }

        boolean has(String op) {
            return guest.results().stream().anyMatch(r -> r.key().equals(op + ".cycles"));
        }

        boolean hasPercentiles(String op) {
            return guest.results().stream().anyMatch(r -> r.key().equals(op + ".p50"));
        }
    }

    /** Runs one VMM once. */
    @FunctionalInterface
    interface Runner {
        Run run() throws InterruptedException;
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> devices = new LinkedHashMap<>();
        putDevice(devices, "edu", edu);
        putDevice(devices, "nvme", nvme);
        putDevice(devices, "e1000e", e1000e);
        if (withoutDevices) {
            devices.clear();
        } else if (devices.isEmpty()) {
            out.println("vfio4j-bench: no device given and no edu, nvme or e1000e bound to vfio-pci; run inside the testbed: "
                    + "testbed/run --devices edu,nvme,e1000e -- examples/bin/vfio4j-bench (or --without-devices)");
            out.flush();
            return 2;
        }
        if (ops < 40 || rounds < 1 || warmup < 0) {
            // the guest's mean of the fastest 90 % divides by 9/10 of the MSI round trips (ops / 4): at least one
            out.println("vfio4j-bench: --ops must be at least 40, --rounds at least 1, --warmup not negative");
            out.flush();
            return 2;
        }
        boolean variants = cf8Exits != null ? cf8Exits : withoutDevices;
        byte[] image = GuestImage.build("bench", Map.of("N_MAPPED", 10L * ops, "N_CONFIG", (long) ops,
                "N_MSIX", (long) ops, "N_IOPORT", (long) ops, "N_MSI", (long) ops / 4));
        FloorVmm floor = null;
        String floorNote = "";
        if (!noFloor) {
            try {
                floor = FloorVmm.build();
            } catch (RuntimeException e) {
                floorNote = "no floor: " + e.getMessage();
            }
        }
        try {
            return measure(devices, image, floor, floorNote, variants);
        } finally {
            if (floor != null) {
                floor.close();
            }
        }
    }

    private int measure(Map<String, String> devices, byte[] image, FloorVmm floor, String floorNote,
            boolean variants) throws Exception {
        List<String> environment = new ArrayList<>(BenchEnvironment.describe(floor == null ? null : floor.compiler()));
        String loadBefore = BenchEnvironment.loadAverage();
        out.println("vfio4j-bench: devices " + devices + ", " + warmup + " warm-up and " + rounds
                + " timed rounds, " + ops + " operations per trapped measurement, guest RAM " + RAM_MIB + " MiB");
        environment.forEach(l -> out.println("  " + l));
        out.println("  load average at start: " + loadBefore);
        if (!floorNote.isEmpty()) {
            out.println("  " + floorNote);
        }
        out.flush();
        boolean[] coalesced = {false};
        Map<String, Runner> runners = new LinkedHashMap<>();
        runners.put(VFIO4J, () -> {
            Run r = vfio4j(image, devices, true, jitQuietMillis);
            coalesced[0] = coalescedLast; // the floor then does as vfio4j does
            return r;
        });
        runners.put(QEMU, () -> qemu(image, devices));
        if (floor != null) {
            runners.put(FLOOR, () -> floor.run(FLOOR, image, RAM_MIB, coalesced[0], LIMIT));
        }
        if (variants) {
            runners.put(VFIO4J_CF8, () -> vfio4j(image, devices, false, jitQuietMillis));
            if (floor != null) {
                runners.put(FLOOR_CF8, () -> floor.run(FLOOR_CF8, image, RAM_MIB, false, LIMIT));
            }
        }
        List<String> names = new ArrayList<>(runners.keySet());
        for (int i = 0; i < warmup; i++) {
            StringBuilder line = new StringBuilder("  warm-up " + (i + 1) + ":");
            for (String name : names) {
                Run r = runners.get(name).run();
                line.append(' ').append(name).append(' ').append(firstWords(r.guest().ending())).append(';');
            }
            out.println(line);
            out.flush();
        }
        List<Map<String, Run>> timed = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            List<String> order = new ArrayList<>(names);
            java.util.Collections.rotate(order, -(i % order.size()));
            Map<String, Run> round = new LinkedHashMap<>();
            for (String name : order) {
                round.put(name, runners.get(name).run());
            }
            for (Run r : round.values()) {
                if (!r.guest().succeeded()) {
                    out.println("a run failed:\n" + r.vmm() + ": " + r.guest());
                    out.flush();
                    return 1;
                }
            }
            timed.add(round);
            out.println(roundLine(i + 1, order, round));
            out.flush();
        }
        List<Duration[]> hotplug = new ArrayList<>();
        String hotplugNote = "";
        if (!devices.isEmpty()) {
            String name = devices.keySet().iterator().next();
            try {
                for (int i = 0; i < rounds; i++) {
                    hotplug.add(hotplugRound(image, devices.get(name), name, i % 2 == 0));
                }
                hotplugNote = name;
            } catch (RuntimeException | java.io.IOException e) {
                hotplugNote = "";
                hotplug.clear();
                out.println("  no hot-plug attach rows: " + e.getMessage());
            }
        }
        List<ExecRound> exec = new ArrayList<>();
        try {
            byte[] small = GuestImage.build("bench", Map.of("N_MAPPED", 160L, "N_CONFIG", 16L, "N_MSIX", 16L,
                    "N_IOPORT", 16L, "N_MSI", 16L));
            for (int i = 0; i < Math.min(rounds, EXEC_ROUNDS); i++) {
                exec.add(execRound(small, devices, i % 2 == 0));
            }
        } catch (RuntimeException | java.io.IOException e) {
            exec.clear();
            out.println("  no start-up-from-exec rows: " + e.getMessage());
        }
        Map<String, KvmTrace.Result> traces = new LinkedHashMap<>();
        String traceNote = "";
        if (!noTrace) {
            try {
                for (String name : names) {
                    try (KvmTrace t = KvmTrace.start()) {
                        Run traced = runners.get(name).run();
                        KvmTrace.Result r = t.stop(traced.guest().text());
                        traces.put(name, r);
                        if (r.lost()) {
                            traceNote = "the trace buffer overflowed: traced counts are lower bounds";
                        }
                    }
                }
            } catch (RuntimeException e) {
                traceNote = "no traced runs: " + e.getMessage();
                traces.clear();
            }
        }
        String loadAfter = BenchEnvironment.loadAverage();
        StringBuilder report = new StringBuilder();
        report.append("Run with ").append(rounds).append(" timed rounds after ").append(warmup)
                .append(" warm-up rounds, ").append(ops).append(" operations per trapped measurement; devices ")
                .append(devices.isEmpty() ? "none" : devices).append(".\n\n");
        environment.forEach(l -> report.append("- ").append(l).append('\n'));
        report.append("- load average (1, 5, 15 min, tasks) at start: ").append(loadBefore).append("; at end: ")
                .append(loadAfter).append('\n');
        report.append("- 0xcf8 writes coalesced by KVM for vfio4j and the floor: ").append(coalesced[0] ? "yes" : "no")
                .append('\n');
        report.append("- before each vfio4j guest run: wait for the JIT to finish nothing for ").append(jitQuietMillis)
                .append(" ms; waited (ms): ").append(jitWaits(timed)).append('\n');
        report.append("- JVM during the timed vfio4j runs: ").append(jvmSummary(timed)).append("\n\n");
        report.append(perVmmTable(timed, names, traces)).append('\n');
        report.append(ratioTable(timed)).append('\n');
        report.append(startupTable(timed));
        if (!exec.isEmpty()) {
            report.append(execRow(exec, devices.isEmpty()));
        }
        if (!hotplug.isEmpty()) {
            report.append(hotplugRow(hotplug, hotplugNote));
        }
        if (!traceNote.isEmpty()) {
            report.append("\nNote: ").append(traceNote).append('\n');
        }
        if (!floorNote.isEmpty()) {
            report.append("\nNote: ").append(floorNote).append('\n');
        }
        report.append("\nPer round (cycles/op: mean [mean of the fastest 90 %, p50, p99]; the VMMs in the order "
                + "they ran):\n\n```\n");
        for (int i = 0; i < timed.size(); i++) {
            List<String> order = new ArrayList<>(timed.get(i).keySet());
            report.append(roundLine(i + 1, order, timed.get(i))).append('\n');
        }
        report.append("```\n");
        out.println();
        out.print(report);
        out.flush();
        if (markdown != null) {
            Files.writeString(markdown, report.toString(), StandardCharsets.UTF_8);
        }
        return 0;
    }

    /** Set by the last {@link #vfio4j} run: whether its machine had 0xcf8 coalesced. */
    private static volatile boolean coalescedLast;

    private static String roundLine(int number, List<String> order, Map<String, Run> round) {
        StringBuilder line = new StringBuilder("  round " + number + " (" + String.join(" / ", order) + "):");
        for (String op : OPS.keySet()) {
            StringBuilder part = new StringBuilder();
            for (Run r : round.values()) {
                if (r.has(op)) {
                    part.append(' ').append(r.vmm()).append(' ').append(r.cycles(op));
                    if (r.hasPercentiles(op)) {
                        part.append(" [t90 ").append(r.t90(op)).append(" p50 ").append(r.p50(op)).append(" p99 ")
                                .append(r.p99(op)).append(']');
                    }
                    part.append(',');
                }
            }
            if (part.length() > 0) {
                line.append(' ').append(op).append(':').append(part);
            }
        }
        Run ours = round.get(VFIO4J);
        if (ours != null && ours.jvm() != null) {
            line.append(" JVM during vfio4j: ").append(ours.jvm());
        }
        return line.toString();
    }

    private static List<Long> jitWaits(List<Map<String, Run>> timed) {
        List<Long> out = new ArrayList<>();
        for (Map<String, Run> round : timed) {
            for (Run r : round.values()) {
                if (r.jvm() != null) {
                    out.add(r.jitWaitMillis());
                }
            }
        }
        return out;
    }

    private static String jvmSummary(List<Map<String, Run>> timed) {
        long gcs = 0;
        long gcMillis = 0;
        List<Long> jit = new ArrayList<>();
        for (Map<String, Run> round : timed) {
            for (Run r : round.values()) {
                if (r.jvm() != null) {
                    gcs += r.jvm().gcCount();
                    gcMillis += r.jvm().gcMillis();
                    jit.add(r.jvm().jitMillis());
                }
            }
        }
        return gcs + " collections (" + gcMillis + " ms) in all; JIT compilation time per run (ms): " + jit;
    }

    /** Median and range of the per-round values. */
    record Spread(double median, double min, double max, int atMostOne, int n) {
        static Spread of(List<Double> values) {
            List<Double> sorted = new ArrayList<>(values);
            sorted.sort(Double::compare);
            int n = sorted.size();
            double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
            int ok = (int) sorted.stream().filter(v -> v <= 1.0).count();
            return new Spread(median, sorted.get(0), sorted.get(n - 1), ok, n);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.3f [%.3f-%.3f]", median, min, max);
        }
    }

    private static List<Double> perRound(List<Map<String, Run>> timed, String a, String b, String op,
            ToLongFunction<Run> value) {
        List<Double> out = new ArrayList<>();
        for (Map<String, Run> round : timed) {
            Run x = round.get(a);
            Run y = round.get(b);
            if (x == null || y == null || !x.has(op) || !y.has(op)) {
                return List.of();
            }
            out.add((double) value.applyAsLong(x) / value.applyAsLong(y));
        }
        return out;
    }

    /** Per VMM and operation: cycles/op (median and range over rounds), p50/p99 medians, the largest max, exits. */
    static String perVmmTable(List<Map<String, Run>> timed, List<String> names, Map<String, KvmTrace.Result> traces) {
        StringBuilder b = new StringBuilder();
        b.append("| operation | VMM | cycles/op (mean), median [min-max] over rounds | mean of the fastest 90 %, "
                + "median [min-max] | p50 | p99 | max | exits/op to VMM (own counters) | exits/op all / to VMM (trace) |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, String> op : OPS.entrySet()) {
            String k = op.getKey();
            for (String name : names) {
                List<Run> runs = timed.stream().map(r -> r.get(name)).filter(r -> r != null && r.has(k)).toList();
                if (runs.size() != timed.size()) {
                    continue;
                }
                Spread cycles = Spread.of(runs.stream().map(r -> (double) r.cycles(k)).toList());
                boolean pct = runs.get(0).hasPercentiles(k);
                String own = name.startsWith(VFIO4J) ? String.format(Locale.ROOT, "%.2f",
                        exitsPerOp(runs.get(0).guest().results(), k, VfioBench::totalExits, true)) : "";
                Spread t90 = pct ? Spread.of(runs.stream().map(r -> (double) r.t90(k)).toList()) : null;
                b.append(String.format(Locale.ROOT, "| %s | %s | %.0f [%.0f-%.0f] | %s | %s | %s | %s | %s | %s |%n",
                        op.getValue(), name, cycles.median(), cycles.min(), cycles.max(),
                        t90 == null ? "" : String.format(Locale.ROOT, "%.0f [%.0f-%.0f]", t90.median(), t90.min(),
                                t90.max()),
                        pct ? String.format(Locale.ROOT, "%.0f", median(runs, r -> r.p50(k))) : "",
                        pct ? String.format(Locale.ROOT, "%.0f", median(runs, r -> r.p99(k))) : "",
                        pct ? Long.toString(runs.stream().mapToLong(r -> r.max(k)).max().orElse(0)) : "",
                        own, traced(traces.get(name), k)));
            }
        }
        return b.toString();
    }

    private static double median(List<Run> runs, ToLongFunction<Run> value) {
        return Spread.of(runs.stream().map(r -> (double) value.applyAsLong(r)).toList()).median();
    }

    /** The paired ratios: per round, one VMM's value over another's; median, range, rounds at or below 1.0. */
    static String ratioTable(List<Map<String, Run>> timed) {
        StringBuilder b = new StringBuilder();
        b.append("| operation | ratio | per-round ratio of cycles/op (mean): median [min-max] | rounds <= 1.00 "
                + "| per-round ratio of the fastest-90 % mean: median [min-max] | rounds <= 1.00 "
                + "| per-round ratio of p50: median [min-max] |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, String> op : OPS.entrySet()) {
            String k = op.getKey();
            for (String[] pair : PAIRS) {
                List<Double> mean = perRound(timed, pair[0], pair[1], k, r -> r.cycles(k));
                if (mean.isEmpty()) {
                    continue;
                }
                Spread m = Spread.of(mean);
                boolean pct = timed.get(0).get(pair[0]).hasPercentiles(k);
                List<Double> p50 = pct ? perRound(timed, pair[0], pair[1], k, r -> r.p50(k)) : List.of();
                Spread t = pct ? Spread.of(perRound(timed, pair[0], pair[1], k, r -> r.t90(k))) : null;
                b.append(String.format(Locale.ROOT, "| %s | %s / %s | %s | %d of %d | %s | %s | %s |%n",
                        op.getValue(), pair[0], pair[1], m, m.atMostOne(), m.n(), t == null ? "" : t,
                        t == null ? "" : t.atMostOne() + " of " + t.n(), p50.isEmpty() ? "" : Spread.of(p50)));
            }
        }
        return b.toString();
    }

    /** Start-up rows: vfio4j's attach and start-to-first-output against QEMU's start to first output. */
    static String startupTable(List<Map<String, Run>> timed) {
        List<Run> ours = timed.stream().map(r -> r.get(VFIO4J)).toList();
        List<Run> theirs = timed.stream().map(r -> r.get(QEMU)).toList();
        long attach = medianLong(ours.stream().map(r -> r.attach().toNanos()).toList());
        long first = medianLong(ours.stream().map(r -> r.toFirstOutput() == null ? Long.MAX_VALUE
                : r.toFirstOutput().toNanos()).toList());
        long qfirst = medianLong(theirs.stream().map(r -> r.toFirstOutput() == null ? Long.MAX_VALUE
                : r.toFirstOutput().toNanos()).toList());
        StringBuilder b = new StringBuilder();
        b.append("| start-up (medians over rounds) | vfio4j, ms | QEMU, ms | vfio4j/QEMU |\n|---|---:|---:|---:|\n");
        if (attach > 0) {
            b.append(String.format(Locale.ROOT, "| (f) vfio4j attach() of all devices vs QEMU process start to first "
                    + "guest output | %.1f | %.1f | %.2f |%n", attach / 1e6, qfirst / 1e6, (double) attach / qfirst));
        }
        b.append(String.format(Locale.ROOT, "| (f') start to first guest output (vfio4j: machine creation in a running "
                + "JVM; QEMU: from process start) | %.1f | %.1f | %.2f |%n", first / 1e6, qfirst / 1e6,
                (double) first / qfirst));
        return b.toString();
    }

    /**
     * One paired round of the like-for-like attach: vfio4j's attach of one device into a machine that exists (its
     * VM and RAM created), with the reset QEMU also gives a hot-plugged device, and QEMU's device_add of the same
     * device into a paused q35 VM ({@link QmpHotplug}); the order alternates between rounds.
     *
     * @return {vfio4j, QEMU}
     */
    static Duration[] hotplugRound(byte[] image, String bdf, String name, boolean oursFirst)
            throws java.io.IOException, InterruptedException {
        Duration ours = null;
        Duration theirs = null;
        for (int k = 0; k < 2; k++) {
            if ((k == 0) == oursFirst) {
                try (GuestMachine m = GuestMachine.create((long) RAM_MIB << 20)) {
                    ours = m.attach(VfioPciOptions.builder(bdf).slot(slot(name)).resetOnAttach(true).build())
                            .attachTime();
                }
            } else {
                theirs = QmpHotplug.attach(image, RAM_MIB, bdf);
            }
        }
        return new Duration[] {ours, theirs};
    }

    /**
     * One paired round of start-up from process exec to the guest's first output byte, in nanoseconds.
     *
     * @param ours vfio4j's new JVM: {exec to first output, to main(), to the machine created, to the devices attached}
     * @param qemu QEMU's new process: exec to first output
     */
    record ExecRound(long[] ours, long qemu) {
    }

    /**
     * One paired round, both with the same devices and a short image: a new JVM running {@link BenchStartup} (JVM
     * start, machine, attach, run) and a new QEMU process ({@link #qemu}); the order alternates between rounds.
     */
    static ExecRound execRound(byte[] image, Map<String, String> devices, boolean oursFirst)
            throws java.io.IOException, InterruptedException {
        long[] ours = null;
        long qemu = 0;
        for (int k = 0; k < 2; k++) {
            if ((k == 0) == oursFirst) {
                ours = execVfio4j(image, devices);
            } else {
                Run r = qemu(image, devices);
                if (!r.guest().succeeded() || r.toFirstOutput() == null) {
                    throw new IllegalStateException("QEMU start-up run failed: " + r.guest());
                }
                qemu = r.toFirstOutput().toNanos();
            }
        }
        return new ExecRound(ours, qemu);
    }

    /**
     * A new JVM with this one's class path and system properties; {exec to first output, to main(), to the machine
     * created, to the devices attached}.
     */
    private static long[] execVfio4j(byte[] image, Map<String, String> devices)
            throws java.io.IOException, InterruptedException {
        Path file = Files.createTempFile("vfio4j-bench-startup", ".bin");
        try {
            Files.write(file, image);
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            for (String arg : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (arg.startsWith("-D") || arg.startsWith("-X")) {
                    cmd.add(arg);
                }
            }
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(BenchStartup.class.getName());
            cmd.add(file.toString());
            devices.forEach((name, bdf) -> cmd.add(name + "=" + bdf));
            long start = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = p.waitFor();
            long first = lineValue(text, BenchStartup.FIRST_OUTPUT);
            long entered = lineValue(text, BenchStartup.MAIN_ENTERED);
            long created = lineValue(text, BenchStartup.MACHINE_CREATED);
            long attached = lineValue(text, BenchStartup.DEVICES_ATTACHED);
            if (code != 0 || first <= 0 || entered <= 0 || created <= 0 || attached <= 0) {
                throw new IllegalStateException("vfio4j start-up run failed (exit " + code + "): " + text);
            }
            return new long[] {first - start, entered - start, created - start, attached - start};
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static long lineValue(String text, String prefix) {
        for (String line : text.split("\n")) {
            if (line.startsWith(prefix)) {
                return Long.parseLong(line.substring(prefix.length()).trim());
            }
        }
        return -1;
    }

    /** The exec row: medians of each, the per-round ratio's median and range, and vfio4j's JVM start share. */
    static String execRow(List<ExecRound> rounds, boolean noDevices) {
        List<Double> ratios = new ArrayList<>();
        for (ExecRound r : rounds) {
            ratios.add((double) r.ours()[0] / r.qemu());
        }
        Spread s = Spread.of(ratios);
        return String.format(Locale.ROOT, "| (f'') process exec to first guest output, %s (vfio4j: a new JVM running "
                + "BenchStartup: main() at %.1f ms, machine created at %.1f ms, devices attached at %.1f ms; QEMU: a "
                + "new process), %d paired rounds; per-round ratio median %s | %.1f | %.1f | %.2f |%n",
                noDevices ? "no devices" : "with the devices", medianOurs(rounds, 1) / 1e6, medianOurs(rounds, 2) / 1e6,
                medianOurs(rounds, 3) / 1e6, rounds.size(), s, medianOurs(rounds, 0) / 1e6,
                medianLong(rounds.stream().map(ExecRound::qemu).toList()) / 1e6, s.median());
    }

    private static long medianOurs(List<ExecRound> rounds, int mark) {
        return medianLong(rounds.stream().map(r -> r.ours()[mark]).toList());
    }

    /** The attach row: medians of each, and the per-round ratio's median and range. */
    static String hotplugRow(List<Duration[]> rounds, String device) {
        List<Long> ours = rounds.stream().map(r -> r[0].toNanos()).toList();
        List<Long> theirs = rounds.stream().map(r -> r[1].toNanos()).toList();
        List<Double> ratios = new ArrayList<>();
        for (Duration[] r : rounds) {
            ratios.add((double) r[0].toNanos() / r[1].toNanos());
        }
        ratios.sort(Double::compare);
        return String.format(Locale.ROOT, "| (g) attach of %s into a running VM, with the reset (vfio4j: "
                + "VfioPciDevice.attach with resetOnAttach; QEMU: device_add vfio-pci over QMP into a paused q35 "
                + "VM), %d paired rounds; per-round ratio median %.2f [%.2f-%.2f] | %.1f | %.1f | %.2f |%n", device,
                rounds.size(), ratios.get(ratios.size() / 2), ratios.get(0), ratios.get(ratios.size() - 1),
                medianLong(ours) / 1e6, medianLong(theirs) / 1e6, ratios.get(ratios.size() / 2));
    }

    private static long medianLong(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(Long::compare);
        return sorted.get(sorted.size() / 2);
    }

    private static String firstWords(String s) {
        int i = s.indexOf(" (");
        return i < 0 ? s : s.substring(0, i);
    }

    private static void putDevice(Map<String, String> devices, String name, String given) {
        Optional<String> bdf = given != null ? Optional.of(given)
                : VfioPciFunctions.first(Sysfs.host(), PCI_IDS.get(name));
        bdf.ifPresent(b -> devices.put(name, VfioDemo.normalize(b)));
    }

    static int slot(String name) {
        return switch (name) {
            case "edu" -> 4;
            case "nvme" -> 5;
            default -> 6;
        };
    }

    /**
     * One vfio4j run: machine from the Guice modules, the devices attached, the image run to its exit port.
     *
     * @param coalesceCf8 keep 0xcf8 writes in KVM's coalesced ring where the kernel can (GuestMachine's default)
     */
    static Run vfio4j(byte[] image, Map<String, String> devices, boolean coalesceCf8, long jitQuietMillis)
            throws InterruptedException {
        long start = System.nanoTime();
        try (GuestMachine m = GuestMachine.create((long) RAM_MIB << 20)) {
            if (!coalesceCf8) {
                m.withoutCoalescedConfigAddress();
            }
            coalescedLast = m.configAddressCoalesced();
            Duration attach = Duration.ZERO;
            for (Map.Entry<String, String> d : devices.entrySet()) {
                attach = attach.plus(m.attach(VfioPciOptions.builder(d.getValue()).slot(slot(d.getKey())).build())
                        .attachTime());
            }
            m.load(image);
            long waited = jitQuietMillis > 0 ? BenchEnvironment.awaitJitQuiet(jitQuietMillis, 10_000) : 0;
            BenchEnvironment.JvmCounters before = BenchEnvironment.JvmCounters.now();
            GuestMachine.GuestRun run = m.run(LIMIT);
            BenchEnvironment.JvmCounters during = BenchEnvironment.JvmCounters.now().since(before);
            long first = m.output().firstWriteNanos();
            return new Run(coalesceCf8 ? VFIO4J : VFIO4J_CF8, run, attach,
                    first == 0 ? null : Duration.ofNanos(first - start - waited * 1_000_000L), during, waited);
        }
    }

    /** One QEMU run with the same image and devices (same slots). */
    static Run qemu(byte[] image, Map<String, String> devices) throws InterruptedException {
        List<String> args = new ArrayList<>();
        for (Map.Entry<String, String> d : devices.entrySet()) {
            args.add("-device");
            args.add("vfio-pci,host=" + d.getValue() + ",addr=" + slot(d.getKey()));
        }
        QemuGuestRunner.TimedRun r = QemuGuestRunner.runTimed(image, "kvm", RAM_MIB, args, LIMIT);
        return new Run(QEMU, r.run(), null, r.toFirstOutput(), null, 0);
    }

    /** Characters of the line {@code key=0x........\n}: each is one port-I/O exit inside the stamped stretch. */
    static long lineExits(String key) {
        return key.length() + 12;
    }

    /** Exits per operation from stamped output: (stamp at op.cycles - stamp at mark.op.start - line) / n. */
    static double exitsPerOp(List<GuestOutput.Result> results, String op, Function<GuestOutput.Result, Long> count,
            boolean subtractLine) {
        GuestOutput.Result from = last(results, "mark." + op + ".start");
        GuestOutput.Result to = last(results, op + ".cycles");
        GuestOutput.Result n = last(results, op + ".cycles.n");
        if (from == null || to == null || n == null) {
            return Double.NaN;
        }
        long exits = count.apply(to) - count.apply(from) - (subtractLine ? lineExits(op + ".cycles") : 0);
        return (double) exits / n.value();
    }

    private static GuestOutput.Result last(List<GuestOutput.Result> results, String key) {
        GuestOutput.Result found = null;
        for (GuestOutput.Result r : results) {
            if (r.key().equals(key)) {
                found = r;
            }
        }
        return found;
    }

    private static long totalExits(GuestOutput.Result r) {
        return r.exits().values().stream().mapToLong(Long::longValue).sum();
    }

    private static String traced(KvmTrace.Result t, String op) {
        if (t == null) {
            return "n/a";
        }
        List<GuestOutput.Result> rs = t.output().results();
        double user = exitsPerOp(rs, op, r -> r.exits(KvmTrace.USERSPACE), true);
        if (rs.isEmpty() || rs.get(rs.size() - 1).exits(KvmTrace.ALL) == 0) {
            // this kernel's kvm_exit event did not fire (seen on a nested host): only the VMM's exits are known
            return String.format("n/a / %.2f", user);
        }
        double all = exitsPerOp(rs, op, r -> r.exits(KvmTrace.ALL), true);
        return String.format("%.2f / %.2f", all, user);
    }

    /** Runs the command; exits with its code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        System.exit(new CommandLine(new VfioBench(out)).execute(args));
    }
}
