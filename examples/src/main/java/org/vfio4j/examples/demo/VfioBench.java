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
import java.util.concurrent.Callable;
import java.util.function.Function;
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
 * {@link GuestMachine} and under QEMU ({@code -accel kvm -bios bench.bin -device vfio-pci,host=...}) on the same host
 * devices, alternately, and prints the time per operation of each passthrough path (TSC cycles measured by the guest),
 * the vfio4j/QEMU ratio and the KVM exits per operation. Exits come from vfio4j's own counters (exits to the VMM)
 * and, for both VMMs alike, from a separate traced run ({@link KvmTrace}: every exit, and exits to the VMM process).
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
        OPS.put("config", "(b) config read through CF8/CFC (trapped)");
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

    @Option(names = "--edu", description = "host BDF of the edu device (default: the first 1234:11e8 bound to "
            + "vfio-pci, as in the testbed)")
    String edu;
    @Option(names = "--nvme", description = "host BDF of the nvme device (default: the first 1b36:0010 bound to "
            + "vfio-pci, as in the testbed)")
    String nvme;
    @Option(names = "--e1000e", description = "host BDF of the e1000e device (default: the first 8086:10d3 bound to "
            + "vfio-pci, as in the testbed)")
    String e1000e;
    @Option(names = "--rounds", description = "timed runs of each VMM, alternating (default ${DEFAULT-VALUE})")
    int rounds = 5;
    @Option(names = "--warmup", description = "untimed runs of each VMM first, so that vfio4j's JIT has compiled "
            + "its exit path as in a VMM that has been running for a while (default ${DEFAULT-VALUE})")
    int warmup = 3;
    @Option(names = "--ops", description = "operations per trapped measurement (mapped reads: 10x, MSI round "
            + "trips: 1/4) (default ${DEFAULT-VALUE})")
    int ops = 2000;
    @Option(names = "--no-trace", description = "skip the traced runs that count exits for both VMMs")
    boolean noTrace;
    @Option(names = "--without-devices", description = "run with no device (on a host without VFIO devices): only "
            + "the config reads are timed, on the host bridge at 00:00.0, which both VMMs emulate")
    boolean withoutDevices;
    @Option(names = "--markdown", description = "also write the table as Markdown to this file")
    Path markdown;

    private final PrintWriter out;

    /** A command printing to {@code out}. */
    public VfioBench(PrintWriter out) {
        this.out = out;
    }

    /** One run of one VMM. */
    record Run(String vmm, GuestMachine.GuestRun guest, Duration attach, Duration toFirstOutput) {
        long cycles(String op) {
            return guest.result(op + ".cycles").value();
        }

        long n(String op) {
            return guest.result(op + ".cycles.n").value();
        }

        boolean has(String op) {
            return guest.results().stream().anyMatch(r -> r.key().equals(op + ".cycles"));
        }
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
        if (ops < 4 || rounds < 1 || warmup < 0) {
            out.println("vfio4j-bench: --ops must be at least 4, --rounds at least 1, --warmup not negative");
            out.flush();
            return 2;
        }
        byte[] image = GuestImage.build("bench", Map.of("N_MAPPED", 10L * ops, "N_CONFIG", (long) ops,
                "N_MSIX", (long) ops, "N_IOPORT", (long) ops, "N_MSI", (long) ops / 4));
        out.println("vfio4j-bench: devices " + devices + ", " + warmup + " warm-up and " + rounds
                + " timed rounds, " + ops + " operations per trapped measurement, guest RAM " + RAM_MIB + " MiB");
        out.flush();
        for (int i = 0; i < warmup; i++) {
            Run a = vfio4j(image, devices);
            Run b = qemu(image, devices);
            out.println("  warm-up " + (i + 1) + ": vfio4j " + a.guest().ending() + ", QEMU "
                    + firstWords(b.guest().ending()));
            out.flush();
        }
        List<Run> ours = new ArrayList<>();
        List<Run> theirs = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            ours.add(vfio4j(image, devices));
            theirs.add(qemu(image, devices));
            Run a = ours.get(i);
            Run b = theirs.get(i);
            if (!a.guest().succeeded() || !b.guest().succeeded()) {
                out.println("a run failed:\n" + a.guest() + "\n" + b.guest());
                out.flush();
                return 1;
            }
            StringBuilder line = new StringBuilder("  round " + (i + 1) + " cycles/op vfio4j/QEMU:");
            for (String op : OPS.keySet()) {
                if (a.has(op) && b.has(op)) {
                    line.append(' ').append(op).append(' ').append(a.cycles(op)).append('/').append(b.cycles(op));
                }
            }
            out.println(line);
            out.flush();
        }
        KvmTrace.Result ourTrace = null;
        KvmTrace.Result theirTrace = null;
        String traceNote = "";
        if (!noTrace) {
            try {
                try (KvmTrace t = KvmTrace.start()) {
                    vfio4j(image, devices);
                    ourTrace = t.stop();
                }
                try (KvmTrace t = KvmTrace.start()) {
                    qemu(image, devices);
                    theirTrace = t.stop();
                }
                if (ourTrace.lost() || theirTrace.lost()) {
                    traceNote = "the trace buffer overflowed: traced counts are lower bounds";
                }
            } catch (RuntimeException e) {
                traceNote = "no traced runs: " + e.getMessage();
                ourTrace = null;
                theirTrace = null;
            }
        }
        String table = table(ours, theirs, ourTrace, theirTrace);
        out.println();
        out.print(table);
        if (!traceNote.isEmpty()) {
            out.println("Note: " + traceNote);
        }
        out.flush();
        if (markdown != null) {
            Files.writeString(markdown, table + (traceNote.isEmpty() ? "" : "\nNote: " + traceNote + "\n"),
                    StandardCharsets.UTF_8);
        }
        return 0;
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

    private static int slot(String name) {
        return switch (name) {
            case "edu" -> 4;
            case "nvme" -> 5;
            default -> 6;
        };
    }

    /** One vfio4j run: machine from the Guice modules, the devices attached, the image run to its exit port. */
    static Run vfio4j(byte[] image, Map<String, String> devices) throws InterruptedException {
        long start = System.nanoTime();
        try (GuestMachine m = GuestMachine.create((long) RAM_MIB << 20)) {
            Duration attach = Duration.ZERO;
            for (Map.Entry<String, String> d : devices.entrySet()) {
                attach = attach.plus(m.attach(VfioPciOptions.builder(d.getValue()).slot(slot(d.getKey())).build())
                        .attachTime());
            }
            m.load(image);
            GuestMachine.GuestRun run = m.run(LIMIT);
            long first = m.output().firstWriteNanos();
            return new Run("vfio4j", run, attach, first == 0 ? null : Duration.ofNanos(first - start));
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
        return new Run("QEMU", r.run(), null, r.toFirstOutput());
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

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(Long::compare);
        return sorted.get(sorted.size() / 2);
    }

    private static long totalExits(GuestOutput.Result r) {
        return r.exits().values().stream().mapToLong(Long::longValue).sum();
    }

    /** The Markdown table of medians, ratios and exits. */
    static String table(List<Run> ours, List<Run> theirs, KvmTrace.Result ourTrace, KvmTrace.Result theirTrace) {
        StringBuilder b = new StringBuilder();
        b.append("| operation | vfio4j cycles/op | QEMU cycles/op | vfio4j/QEMU | vfio4j exits/op to VMM (own counters)"
                + " | vfio4j exits/op all / to VMM (trace) | QEMU exits/op all / to VMM (trace) |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, String> op : OPS.entrySet()) {
            String k = op.getKey();
            if (!ours.get(0).has(k) || !theirs.get(0).has(k)) {
                b.append("| ").append(op.getValue()).append(" | not measured (device missing) | | | | | |\n");
                continue;
            }
            long a = median(ours.stream().map(r -> r.cycles(k)).toList());
            long q = median(theirs.stream().map(r -> r.cycles(k)).toList());
            double own = exitsPerOp(ours.get(0).guest().results(), k, VfioBench::totalExits, true);
            b.append(String.format("| %s | %d | %d | %.2f | %.2f | %s | %s |%n", op.getValue(), a, q, (double) a / q,
                    own, traced(ourTrace, k), traced(theirTrace, k)));
        }
        long attach = median(ours.stream().map(r -> r.attach().toNanos()).toList());
        long first = median(ours.stream().map(r -> r.toFirstOutput().toNanos()).toList());
        long qfirst = median(theirs.stream().map(r -> r.toFirstOutput() == null ? Long.MAX_VALUE
                : r.toFirstOutput().toNanos()).toList());
        if (attach > 0) {
            b.append(String.format("| (f) attach, ms: vfio4j attach() of all devices vs QEMU start to first guest "
                    + "output | %.1f | %.1f | %.2f | | | |%n", attach / 1e6, qfirst / 1e6, (double) attach / qfirst));
        }
        b.append(String.format("| (f') start to first guest output, ms (both: VM, RAM, devices, first instructions; "
                + "QEMU also its process start) | %.1f | %.1f | %.2f | | | |%n", first / 1e6, qfirst / 1e6,
                (double) first / qfirst));
        return b.toString();
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
