package org.vfio4j.examples.demo;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.refvmm.flat.GuestOutput;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.pci.VfioPciCounters;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.sysfs.Sysfs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vfio4j-demo}: a small VMM built from vfio4j's Guice modules ({@link GuestMachine#create}) that passes one
 * host edu device (QEMU's educational PCI device, 1234:11e8) through to a KVM guest and runs the {@code edu} guest
 * program as the guest's BIOS. The program enumerates PCI through CF8/CFC, places and enables the BAR, reads edu's id
 * through the directly mapped BAR, does trapped config accesses (and reads a BAR with decode off), copies a buffer
 * RAM to edu to RAM by DMA through the IOMMU and takes two MSIs. The report says what was mapped and what trapped, the
 * KVM exits counted, the interrupts delivered and whether the DMA checked out.
 *
 * <p>Exit codes: 0 every check passed; 1 the device could not be attached or a check failed (the report says which);
 * 2 usage error (including: no device given and no testbed edu device found).
 */
@Command(name = "vfio4j-demo", mixinStandardHelpOptions = true, version = "vfio4j-demo 0.1.0",
        description = "Passes an edu device through to a small KVM guest and reports what vfio4j mapped, trapped, "
                + "counted and delivered.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every check passed", "1:the device could not be attached or a check failed",
            "2:usage error, or no device given and none found"})
public final class VfioDemo implements Callable<Integer> {
    /** The PCI id the demo program drives. */
    public static final String EDU_ID = "1234:11e8";
    /** Where the device sits in the guest (00:04.0, as under QEMU's q35 with the same command line). */
    public static final int SLOT = 4;
    /** How many id reads the program times through the mapped BAR. */
    static final long ID_READS = 1000;

    @Parameters(paramLabel = "DEVICE", arity = "0..1",
            description = "host edu function bound to vfio-pci, as BDF (0000:00:04.0); default: the first edu "
                    + "bound to vfio-pci (in the testbed: its edu device)")
    String device;

    @Option(names = "--ram-mib", description = "guest RAM in MiB (default ${DEFAULT-VALUE})")
    int ramMib = 16;

    @Option(names = "--limit-seconds", description = "hang guard for the guest run (default ${DEFAULT-VALUE})")
    int limitSeconds = 120;

    @Option(names = "--sysfs", hidden = true, description = "file system root that holds sys/ (for tests)")
    Path root = Path.of("/");

    private final PrintWriter out;

    /** A command printing its report to {@code out}. */
    public VfioDemo(PrintWriter out) {
        this.out = out;
    }

    @Override
    public Integer call() throws InterruptedException {
        Optional<String> bdf = device != null ? Optional.of(device) : boundEdu();
        if (bdf.isEmpty()) {
            out.println("vfio4j-demo: no device given and no edu bound to vfio-pci. Give the BDF of an edu device "
                    + "bound to vfio-pci, or run inside the testbed: testbed/run --devices edu -- "
                    + "examples/bin/vfio4j-demo");
            out.flush();
            return 2;
        }
        String host = normalize(bdf.get());
        String id = pciId(host);
        if (!EDU_ID.equals(id)) {
            out.printf("vfio4j-demo: %s is %s, not an edu device (%s): the demo's guest program drives edu's "
                    + "registers%n", host, id == null ? "not a PCI function in sysfs" : id, EDU_ID);
            out.flush();
            return 1;
        }
        byte[] image = GuestImage.build("edu");
        try (GuestMachine machine = GuestMachine.create((long) ramMib << 20)) {
            GuestMachine.Attached attached;
            try {
                attached = machine.attach(VfioPciOptions.builder(host).slot(SLOT).build());
            } catch (RuntimeException e) {
                out.println("vfio4j-demo: could not attach " + host + ": " + e.getMessage());
                out.flush();
                return 1;
            }
            machine.load(image);
            GuestMachine.GuestRun run = machine.run(Duration.ofSeconds(limitSeconds));
            machine.stop();
            VfioPciDevice dev = attached.device();
            Report report = new Report(host, dev.address().toString(), attached.attachTime(), run, dev.counters(),
                    dev.interruptMode().toString());
            report.print(out);
            out.flush();
            return report.passed() ? 0 : 1;
        }
    }

    /** What the demo saw, and the checks on it. */
    record Report(String host, String guestAddress, Duration attachTime, GuestMachine.GuestRun run,
            VfioPciCounters counters, String interruptMode) {

        List<String> failures() {
            List<String> f = new ArrayList<>();
            if (!run.succeeded()) {
                f.add("the guest program did not finish (" + run.ending() + ", exit code " + run.exitCode() + ")");
                return f;
            }
            if (value("edu.id") != 0x010000edL) {
                f.add(String.format("edu id reads 0x%08x, not 0x010000ed", value("edu.id")));
            }
            if (mmioExits("mark.id.start", "mark.id.end") != 0) {
                f.add("mapped id reads caused " + mmioExits("mark.id.start", "mark.id.end") + " MMIO exits");
            }
            if (value("dma.mismatches") != 0) {
                f.add(value("dma.mismatches") + " words differ after the DMA round trip");
            }
            if (value("irq.count2") != 2) {
                f.add("the guest took " + value("irq.count2") + " MSIs, not 2");
            }
            if (value("decode.off.read") != 0xffffffffL) {
                f.add(String.format("with memory decode off BAR0 read 0x%08x, not all-ones",
                        value("decode.off.read")));
            }
            if (value("moved.id") != 0x010000edL || mmioExits("mark.moved.start", "mark.moved.end") != 0) {
                f.add("after the BAR moved the id read was not direct-mapped");
            }
            if (counters.configReads() == 0) {
                f.add("no trapped config read was counted");
            }
            return f;
        }

        boolean passed() {
            return failures().isEmpty();
        }

        long value(String key) {
            return run.results().stream().filter(r -> r.key().equals(key)).reduce((a, b) -> b)
                    .map(GuestOutput.Result::value).orElse(-1L);
        }

        long mmioExits(String from, String to) {
            try {
                return run.exitsBetween(from, to, KvmAbi.Exit.MMIO);
            } catch (AssertionError e) {
                return -1;
            }
        }

        long ioExits(String from, String to) {
            try {
                return run.exitsBetween(from, to, KvmAbi.Exit.IO);
            } catch (AssertionError e) {
                return -1;
            }
        }

        void print(PrintWriter out) {
            out.println("vfio4j demo: host " + host + " (edu " + EDU_ID + ") passed through to a KVM guest at "
                    + guestAddress);
            out.printf("  attach: %.1f ms (VfioPciDevice.attach: group, container, DMA map of guest RAM, regions, "
                    + "config view, BAR mappings)%n", attachTime.toNanos() / 1e6);
            out.println("  guest program: edu, 64 KiB image at the reset vector; ended by " + run.ending()
                    + ", exit code " + run.exitCode());
            out.println();
            out.println("What vfio4j mapped and what it trapped:");
            for (BarLayout b : counters.bars()) {
                out.printf("  BAR%d %s %s at 0x%x%s%n", b.index(), b.io() ? "I/O" : "memory", size(b.size()),
                        b.guestAddress(), b.decoding() ? "" : " (decode off)");
                out.println("    mapped into the guest (no exits): " + (b.mapped().isEmpty() ? "nothing"
                        : b.mapped() + " = " + size(b.mappedBytes())));
                out.println("    trapped (each access exits to the VMM): " + (b.trapped().isEmpty() ? "nothing"
                        : b.trapped() + " = " + size(b.trappedBytes())) + "; trapped reads " + b.trappedReads()
                        + ", writes " + b.trappedWrites());
            }
            out.println("  config space (CF8/CFC, emulated view over the device's): " + counters.configReads()
                    + " reads, " + counters.configWrites() + " writes trapped");
            out.println("  guest RAM mapped for DMA through the IOMMU: " + size(counters.dmaMappedBytes()));
            out.println();
            if (!run.succeeded()) {
                out.println("The guest program did not finish; its output:");
                out.println(run.text());
            } else {
                out.println("What the guest did:");
                out.printf("  %d reads of edu's id register (0x%08x) through the mapped BAR: %d MMIO exits "
                        + "(%d port-I/O exits: the guest's own debugcon output)%n", ID_READS, value("edu.id"),
                        mmioExits("mark.id.start", "mark.id.end"), ioExits("mark.id.start", "mark.id.end"));
                out.printf("  trapped accesses: config reads/writes through CF8/CFC (counted above); BAR0 read with "
                        + "memory decode off: 0x%08x (all-ones, as on real hardware)%n", value("decode.off.read"));
                out.printf("  BAR0 moved to 0x%08x: %d id reads there with %d MMIO exits%n", value("moved.bar0"),
                        ID_READS, mmioExits("mark.moved.start", "mark.moved.end"));
                out.printf("  DMA: %d bytes RAM -> edu -> RAM through the IOMMU: %s%n", 2048,
                        value("dma.mismatches") == 0 ? "checked out (0 words differ)"
                                : value("dma.mismatches") + " words differ");
                out.printf("  MSI: %d interrupts taken by the guest's handler on vector 0x40 (raise register, then "
                        + "factorial done); interrupt mode %s, %d vector(s) routed in the kernel (irqfd), "
                        + "userspace deliveries %s%n", value("irq.count2"), interruptMode,
                        counters.kernelRoutedVectors(), counters.userspaceInterrupts());
            }
            out.println();
            out.println("KVM exits for the whole run: " + new TreeMap<>(run.exits()));
            List<String> f = failures();
            out.println(f.isEmpty() ? "RESULT: PASS" : "RESULT: FAIL");
            for (String s : f) {
                out.println("  - " + s);
            }
        }

        private static String size(long bytes) {
            if (bytes >= (1 << 20) && bytes % (1 << 20) == 0) {
                return (bytes >> 20) + " MiB";
            }
            if (bytes >= 1024 && bytes % 1024 == 0) {
                return (bytes >> 10) + " KiB";
            }
            return bytes + " bytes";
        }
    }

    /** The first edu function bound to vfio-pci on this host, if any (the testbed's, or a real VFIO setup's). */
    Optional<String> boundEdu() {
        return VfioPciFunctions.first(new Sysfs(root), EDU_ID);
    }

    /** {@code 01:00.0} becomes {@code 0000:01:00.0}. */
    static String normalize(String bdf) {
        return bdf.matches("[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]") ? "0000:" + bdf : bdf;
    }

    /** {@code vendor:device} of a host function from sysfs, or null when sysfs has no such function. */
    String pciId(String bdf) {
        return VfioPciFunctions.pciId(new Sysfs(root), bdf);
    }

    /** Runs the command; exits with its code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        System.exit(new CommandLine(new VfioDemo(out)).execute(args));
    }

}
