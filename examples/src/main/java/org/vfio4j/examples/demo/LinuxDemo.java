package org.vfio4j.examples.demo;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.vfio4j.refvmm.linux.LinuxMachine;
import org.vfio4j.refvmm.linux.LinuxVmConfig;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.pci.VfioPciCounters;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.sysfs.Sysfs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vfio4j-linux-demo}: boots the testbed's Linux kernel in vfio4j's Linux reference VMM with the testbed's nvme
 * and e1000e passed through, lets the guest's own drivers run them, and reports what they did (driver bound, MiB
 * read and written with their checksums, frames exchanged, interrupts per vector) and what vfio4j mapped and
 * trapped, ending with {@code RESULT: PASS} or {@code RESULT: FAIL}.
 *
 * <p>The guest is the testbed's L2 guest (testbed/l2): the nvme check writes 16 MiB at offset 16 MiB of the namespace
 * of QEMU's emulated nvme (1b36:0010) and the e1000e check pings the testbed guest's own NIC, so the demo runs in the
 * testbed. Exit codes: 0 every check passed, 1 a device could not be attached or a check failed, 2 usage error or
 * no device found.
 */
@Command(name = "vfio4j-linux-demo", mixinStandardHelpOptions = true, version = "vfio4j-linux-demo 0.1.0",
        description = "Boots Linux with nvme and e1000e passed through by vfio4j and reports what the guest's drivers "
                + "did.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every check passed", "1:a device could not be attached or a check failed",
            "2:usage error, or the testbed's nvme/e1000e or kernel were not found"})
public final class LinuxDemo implements Callable<Integer> {
    /** QEMU's nvme and e1000e models, which the L2 guest's checks drive. */
    static final String NVME_ID = "1b36:0010";
    static final String E1000E_ID = "8086:10d3";
    /** md5 of the first MiB testbed/run writes into the nvme backing file. */
    static final String NVME_PATTERN_MD5 = "d6cf24221c49e0204771798fbadeb1c2";

    @Option(names = "--kernel", description = "bzImage (default: testbed/cache/vmlinuz)")
    Path kernel = Path.of("testbed/cache/vmlinuz");

    @Option(names = "--initrd", description = "the L2 guest's initramfs (default: testbed/cache/l2/initramfs.cpio.gz)")
    Path initrd = Path.of("testbed/cache/l2/initramfs.cpio.gz");

    @Option(names = "--vcpus", description = "vCPUs (default ${DEFAULT-VALUE})")
    int vcpus = 2;

    @Option(names = "--time-limit", description = "seconds to wait for the guest (default ${DEFAULT-VALUE})")
    int limitSeconds = 400;

    private final PrintWriter out;

    /** A command printing its report to {@code out}. */
    public LinuxDemo(PrintWriter out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        Sysfs sysfs = Sysfs.host();
        Optional<String> nvme = VfioPciFunctions.first(sysfs, NVME_ID);
        Optional<String> e1000e = VfioPciFunctions.first(sysfs, E1000E_ID);
        if (nvme.isEmpty() || e1000e.isEmpty() || !Files.isRegularFile(kernel) || !Files.isRegularFile(initrd)) {
            out.println("vfio4j-linux-demo: needs QEMU's nvme (" + NVME_ID + ") and e1000e (" + E1000E_ID
                    + ") bound to vfio-pci and the testbed's kernel and L2 initramfs (found: nvme " + nvme.orElse("no")
                    + ", e1000e " + e1000e.orElse("no") + ", " + kernel + " " + Files.isRegularFile(kernel) + ", "
                    + initrd + " " + Files.isRegularFile(initrd) + "). Run it in the testbed: mvn -B -q -DskipTests "
                    + "install && testbed/run --accel tcg --devices nvme,e1000e -- examples/bin/vfio4j-linux-demo");
            out.flush();
            return 2;
        }
        LinuxVmConfig config = LinuxVmConfig.builder(kernel).initrd(initrd)
                .commandLine("console=ttyS0 quiet panic=-1 vfio4j.checks=boot,nvme,e1000e").ramMiB(512).vcpus(vcpus)
                .device(nvme.get()).device(e1000e.get()).build();
        LinuxMachine machine;
        try {
            machine = LinuxMachine.create(config);
        } catch (RuntimeException e) {
            out.println("vfio4j-linux-demo: could not build the VM: " + e.getMessage());
            out.flush();
            return 1;
        }
        try (machine) {
            LinuxMachine.Run run = machine.run(Duration.ofSeconds(limitSeconds));
            Map<String, VfioPciCounters> counters = new LinkedHashMap<>();
            List<VfioPciDevice> devices = machine.devices();
            counters.put("nvme " + nvme.get() + " at " + devices.get(0).address(), devices.get(0).counters());
            counters.put("e1000e " + e1000e.get() + " at " + devices.get(1).address(), devices.get(1).counters());
            Report report = new Report(run, counters);
            report.print(out);
            out.flush();
            return report.failures().isEmpty() ? 0 : 1;
        }
    }

    /** What the guest reported, and the checks on it. */
    record Report(LinuxMachine.Run run, Map<String, VfioPciCounters> counters) {
        private String v(String key) {
            return run.values().getOrDefault(key, "");
        }

        List<String> failures() {
            List<String> f = new ArrayList<>();
            if (!run.succeeded()) {
                f.add("the guest did not finish its checks (" + run.why() + ")");
            }
            check(f, "nvme.driver", "nvme", "the nvme driver did not bind");
            check(f, "nvme.pattern_md5", NVME_PATTERN_MD5, "the namespace's first MiB is not the testbed's pattern");
            if (v("nvme.write_md5").isEmpty() || !v("nvme.write_md5").equals(v("nvme.read_md5"))) {
                f.add("the 16 MiB read back do not match what was written");
            }
            check(f, "e1000e.driver", "e1000e", "the e1000e driver did not bind");
            check(f, "e1000e.carrier", "1", "the e1000e link did not come up");
            check(f, "e1000e.ping_loss", "0% packet loss", "pings were lost");
            for (String k : run.values().keySet()) {
                if (k.equals("fail")) {
                    f.add("the guest reported: " + v(k));
                }
            }
            return f;
        }

        private void check(List<String> f, String key, String expected, String why) {
            if (!expected.equals(v(key))) {
                f.add(why + " (" + key + "=" + v(key) + ")");
            }
        }

        void print(PrintWriter out) {
            out.println("vfio4j Linux demo: Linux " + v("l2.kernel") + " booted by vfio4j's reference VMM with "
                    + String.join(" and ", counters.keySet()));
            out.printf("  boot: %s vCPUs, %s KiB of RAM seen; init reached at %s s of guest time; the VM ran %.1f s%n",
                    v("l2.cpus"), v("l2.mem_kib"), v("l2.uptime"), run.ran().toMillis() / 1000.0);
            out.println("  firmware: ACPI " + v("l2.acpi_tables") + "; " + v("l2.mmconfig"));
            out.println();
            out.println("What the guest's drivers did:");
            out.println("  nvme: driver " + v("nvme.driver") + ", " + v("nvme.queues") + ", namespace "
                    + Long.parseLong(v("nvme.size_bytes").isEmpty() ? "0" : v("nvme.size_bytes")) / (1 << 20)
                    + " MiB");
            out.println("    read 1 MiB (O_DIRECT): md5 " + v("nvme.pattern_md5")
                    + (NVME_PATTERN_MD5.equals(v("nvme.pattern_md5")) ? " = the testbed's pattern" : " (unexpected)"));
            out.println("    wrote 16 MiB of random data (O_DIRECT) in " + v("nvme.write_seconds") + " s, md5 "
                    + v("nvme.write_md5") + "; read back in " + v("nvme.read_seconds") + " s, md5 "
                    + v("nvme.read_md5") + (v("nvme.write_md5").equals(v("nvme.read_md5")) ? " (match)" : " (MISMATCH)"));
            out.println("  e1000e: driver " + v("e1000e.driver") + ", " + v("e1000e.ifname") + " carrier "
                    + v("e1000e.carrier") + ", " + v("e1000e.address"));
            out.println("    " + v("e1000e.ping") + ", " + v("e1000e.ping_loss") + ", " + v("e1000e.ping_rtt")
                    + "; " + v("e1000e.rx_packets") + " frames received, " + v("e1000e.tx_packets") + " sent");
            out.println("  interrupts per vector (guest /proc/interrupts): " + v("nvme.irqs") + ", "
                    + v("e1000e.irqs"));
            out.println();
            out.println("What vfio4j mapped and what it trapped:");
            for (Map.Entry<String, VfioPciCounters> e : counters.entrySet()) {
                VfioPciCounters c = e.getValue();
                out.println("  " + e.getKey() + " (interrupts: " + c.mode() + ", " + c.kernelRoutedVectors()
                        + " vectors routed in the kernel)");
                for (BarLayout b : c.bars()) {
                    out.printf("    BAR%d %s %s at 0x%x: mapped %s; trapped %s%n", b.index(),
                            b.io() ? "I/O" : "memory", size(b.size()), b.guestAddress(),
                            b.mapped().isEmpty() ? "nothing" : b.mapped().toString(),
                            b.trapped().isEmpty() ? "nothing" : b.trapped().toString());
                }
                out.printf("    config space: %d reads, %d writes trapped; %d MiB of guest RAM mapped for DMA%n",
                        c.configReads(), c.configWrites(), c.dmaMappedBytes() >> 20);
            }
            out.println("  KVM exits: " + run.exits());
            out.println();
            List<String> failures = failures();
            if (failures.isEmpty()) {
                out.println("RESULT: PASS");
            } else {
                failures.forEach(f -> out.println("  " + f));
                out.println("RESULT: FAIL");
            }
        }
    }

    private static String size(long bytes) {
        return bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB"
                : bytes >= 1024 && bytes % 1024 == 0 ? (bytes >> 10) + " KiB" : bytes + " bytes";
    }

    /** Runs the command with its report on standard output. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        System.exit(new CommandLine(new LinuxDemo(out)).execute(args));
    }
}
