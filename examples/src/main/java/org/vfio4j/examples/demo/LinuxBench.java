package org.vfio4j.examples.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.ToDoubleFunction;
import org.vfio4j.refvmm.linux.LinuxMachine;
import org.vfio4j.refvmm.linux.LinuxVmConfig;
import org.vfio4j.refvmm.linux.QemuLinuxRunner;
import org.vfio4j.vfio.pci.VfioPciCounters;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.sysfs.Sysfs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vfio4j-bench --linux}'s rows, on their own: the same kernel, L2 initramfs and devices (the testbed's nvme
 * and e1000e) booted alternately by vfio4j's Linux reference VMM and by QEMU with vfio-pci, round by round. Per
 * round and VMM: boot to init (the guest's own uptime when init starts), nvme O_DIRECT read throughput at 4 KiB and
 * 128 KiB, and the e1000e ping round trip (average of 1000 link-local pings). Reported as paired per-round ratios
 * vfio4j/QEMU with their median and range.
 */
@Command(name = "vfio4j-linux-bench", mixinStandardHelpOptions = true, version = "vfio4j-linux-bench 0.1.0",
        description = "Boots the testbed's Linux guest under vfio4j and under QEMU vfio-pci, alternately, and "
                + "compares boot time, nvme read throughput and e1000e ping round trips.")
public final class LinuxBench implements Callable<Integer> {
    @Option(names = "--rounds", description = "rounds, each one boot per VMM (default ${DEFAULT-VALUE})")
    int rounds = 3;

    @Option(names = "--warmup", description = "untimed vfio4j boots first, so that the JVM has compiled its exit and "
            + "interrupt paths as in a VMM that has run a while; QEMU, native code, needs none "
            + "(default ${DEFAULT-VALUE})")
    int warmup = 1;

    @Option(names = "--kernel", description = "bzImage (default: testbed/cache/vmlinuz)")
    Path kernel = Path.of("testbed/cache/vmlinuz");

    @Option(names = "--initrd", description = "the L2 initramfs (default: testbed/cache/l2/initramfs.cpio.gz)")
    Path initrd = Path.of("testbed/cache/l2/initramfs.cpio.gz");

    private final PrintWriter out;

    /** A command printing to {@code out}. */
    public LinuxBench(PrintWriter out) {
        this.out = out;
    }

    /** One metric: its name, unit, how to read it from the guest's values, and whether larger is better. */
    record Metric(String name, String unit, ToDoubleFunction<Map<String, String>> read, boolean higherIsBetter) {
    }

    static final List<Metric> METRICS = List.of(
            new Metric("boot to init", "s", v -> number(v.get("l2.uptime")), false),
            new Metric("nvme O_DIRECT read 4 KiB", "MiB/s",
                    v -> number(v.get("nvme.read_4k_mib")) / number(v.get("nvme.read_4k_seconds")), true),
            new Metric("nvme O_DIRECT read 128 KiB", "MiB/s",
                    v -> number(v.get("nvme.read_128k_mib")) / number(v.get("nvme.read_128k_seconds")), true),
            new Metric("e1000e ping round trip (avg of 1000)", "ms", v -> pingAverage(v.get("e1000e.ping_rtt")), false));

    @Override
    public Integer call() throws InterruptedException, IOException {
        Sysfs sysfs = Sysfs.host();
        Optional<String> nvme = VfioPciFunctions.first(sysfs, LinuxDemo.NVME_ID);
        Optional<String> e1000e = VfioPciFunctions.first(sysfs, LinuxDemo.E1000E_ID);
        if (nvme.isEmpty() || e1000e.isEmpty()) {
            out.println("vfio4j-linux-bench: needs the testbed's nvme and e1000e bound to vfio-pci: testbed/run "
                    + "--accel tcg --devices nvme,e1000e -- examples/bin/vfio4j-linux-bench");
            out.flush();
            return 2;
        }
        LinuxVmConfig config = LinuxVmConfig.builder(kernel).initrd(initrd)
                .commandLine("console=ttyS0 quiet panic=-1 vfio4j.checks=boot,nvme,e1000e").ramMiB(512).vcpus(1)
                .device(nvme.get()).device(e1000e.get()).build();
        List<double[]> ours = new ArrayList<>();
        List<double[]> theirs = new ArrayList<>();
        for (int w = 1; w <= warmup; w++) {
            vfio4jBoot(config, "warm-up " + w);
        }
        for (int r = 1; r <= rounds; r++) {
            Map<String, String> a = vfio4jBoot(config, "round " + r);
            Map<String, String> b = QemuLinuxRunner.run(config, Duration.ofMinutes(6)).values();
            ours.add(measure(a));
            theirs.add(measure(b));
            out.printf("round %d: vfio4j %s | qemu %s%n", r, Arrays.toString(ours.get(r - 1)),
                    Arrays.toString(theirs.get(r - 1)));
            out.flush();
        }
        out.println();
        out.println("| metric | vfio4j (median) | QEMU vfio-pci (median) | vfio4j/QEMU per round: median (min-max) |");
        out.println("| --- | --- | --- | --- |");
        for (int i = 0; i < METRICS.size(); i++) {
            Metric m = METRICS.get(i);
            double[] ratios = new double[rounds];
            double[] a = new double[rounds];
            double[] b = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                a[r] = ours.get(r)[i];
                b[r] = theirs.get(r)[i];
                ratios[r] = a[r] / b[r];
            }
            out.printf("| %s (%s, %s is better) | %.3f | %.3f | %.2f (%.2f-%.2f) |%n", m.name(), m.unit(),
                    m.higherIsBetter() ? "higher" : "lower", median(a), median(b), median(ratios), min(ratios),
                    max(ratios));
        }
        out.flush();
        return 0;
    }

    /**
     * One boot under vfio4j; prints, per device, how its interrupts went: vectors routed in the kernel (irqfd) at the
     * end, and the interrupts that took a userspace hop, by way.
     */
    private Map<String, String> vfio4jBoot(LinuxVmConfig config, String label) throws InterruptedException {
        try (LinuxMachine m = LinuxMachine.create(config)) {
            Map<String, String> values = m.run(Duration.ofMinutes(6)).values();
            StringBuilder line = new StringBuilder("  " + label + " vfio4j (guest clocksource "
                    + values.get("l2.clocksource") + ") interrupts:");
            for (VfioPciDevice d : m.devices()) {
                VfioPciCounters c = d.counters();
                line.append(' ').append(d.name()).append(' ').append(c.mode()).append(", ")
                        .append(c.kernelRoutedVectors()).append(" in-kernel vectors, userspace ")
                        .append(c.userspaceInterrupts()).append(';');
            }
            out.println(line);
            out.flush();
            return values;
        }
    }

    private static double[] measure(Map<String, String> v) {
        double[] out = new double[METRICS.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = METRICS.get(i).read().applyAsDouble(v);
        }
        return out;
    }

    static double number(String s) {
        try {
            return s == null ? Double.NaN : Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** The average of busybox ping's "min/avg/max = a/b/c ms". */
    static double pingAverage(String rtt) {
        if (rtt == null || !rtt.contains("=")) {
            return Double.NaN;
        }
        String[] parts = rtt.substring(rtt.indexOf('=') + 1).replace("ms", "").trim().split("/");
        return parts.length == 3 ? number(parts[1]) : Double.NaN;
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] xs) {
        return Arrays.stream(xs).min().orElse(Double.NaN);
    }

    private static double max(double[] xs) {
        return Arrays.stream(xs).max().orElse(Double.NaN);
    }

    /** Runs the command. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        System.exit(new CommandLine(new LinuxBench(out)).execute(args));
    }
}
