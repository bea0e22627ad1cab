package org.vfio4j.examples.inspect;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.iommufd.IommufdVfio;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.sysfs.Sysfs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code vfio-inspect}: prints what Linux VFIO tells about devices bound to vfio-pci.
 *
 * <p>Exit codes: 0 when every device was inspected, or when there was none to inspect (the message says so);
 * 1 when at least one device could not be inspected (the report says why); 2 for a usage error.
 */
@Command(name = "vfio-inspect", mixinStandardHelpOptions = true, version = "vfio-inspect 0.1.0",
        description = "Prints the IOMMU group, IOMMU info, flags, regions (with capabilities), IRQs and hot-reset "
                + "dependencies of devices bound to vfio-pci, and the flags, regions and IRQs of platform devices "
                + "bound to vfio-platform or vfio-amba with their device-tree or ACPI description.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every device was inspected, or no device is bound to vfio-pci or vfio-platform",
            "1:a device could not be inspected (the report says why)", "2:usage error"})
public final class VfioInspect implements Callable<Integer> {

    /** Exit code when a device could not be inspected. */
    public static final int EXIT_DEVICE_FAILED = 1;

    @Parameters(paramLabel = "DEVICE", arity = "0..*",
            description = "PCI devices as BDF (0000:01:00.0 or 01:00.0) or sysfs path, or platform devices by "
                    + "name (LNRO0005:02, 9000000.pl011); default: every device bound to vfio-pci, vfio-platform or "
                    + "vfio-amba")
    List<String> devices = new ArrayList<>();

    @Option(names = "--json", description = "print JSON instead of text")
    boolean json;

    @Option(names = "--backend", description = "VFIO interface to open devices with: ${COMPLETION-CANDIDATES} "
            + "(group + type1 container; device cdev + iommufd IOAS; the cdev when the kernel has it); "
            + "default: ${DEFAULT-VALUE}")
    VfioBackend backend = VfioBackend.LEGACY_CONTAINER;

    @Option(names = "--unsafe-noiommu", description = "also open platform devices that have no IOMMU (the kernel's "
            + "unsafe no-IOMMU mode: such a device can DMA anywhere; opening it taints the kernel); without it they "
            + "are listed from sysfs and firmware only")
    boolean unsafeNoIommu;

    @Option(names = "--root", hidden = true, description = "file system root that holds sys/ (for tests)")
    Path root = Path.of("/");

    private final Syscalls sys;
    private final PrintWriter out;

    /** A command over the given seam, printing to {@code out}. */
    public VfioInspect(Syscalls sys, PrintWriter out) {
        this.sys = sys;
        this.out = out;
    }

    @Override
    public Integer call() {
        Vfio vfio = new Vfio(sys, new Sysfs(root));
        List<String> targets = new ArrayList<>();
        List<String> platform = new ArrayList<>();
        if (devices.isEmpty()) {
            targets.addAll(vfio.vfioPciDevices());
            platform.addAll(PlatformInspector.boundDevices(vfio));
        } else {
            for (String d : devices) {
                (PlatformInspector.isPlatformDevice(vfio, d) ? platform : targets).add(d);
            }
        }
        if (targets.isEmpty() && !platform.isEmpty()) {
            return platformOnly(vfio, platform);
        }
        if (targets.isEmpty()) {
            String message = "No PCI device is bound to vfio-pci on this machine ("
                    + root.resolve("sys/bus/pci/drivers/vfio-pci") + " lists none), so there is nothing to inspect. Bind one with "
                    + "driver_override, or run inside the testbed: testbed/run -- examples/bin/vfio-inspect";
            if (json) {
                out.println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter()
                        .writeValueAsString(java.util.Map.of("devices", List.of(), "message", message)));
            } else {
                out.println(message);
            }
            out.flush();
            return 0;
        }
        Inspector inspector = new Inspector(vfio);
        List<DeviceReport> reports = new ArrayList<>();
        for (String target : targets) {
            boolean cdev = backend.resolve(vfio.sysfs(), target, IommufdVfio.hostSupported())
                    == VfioBackend.IOMMUFD_CDEV;
            reports.add(cdev ? inspector.inspectThroughIommufd(target) : inspector.inspect(target));
        }
        List<PlatformReport> platformReports = inspectPlatform(vfio, platform);
        if (json) {
            java.util.Map<String, Object> all = new java.util.LinkedHashMap<>();
            all.put("devices", reports);
            if (!platformReports.isEmpty()) {
                all.put("platformDevices", platformReports);
            }
            out.println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(all));
        } else {
            for (DeviceReport r : reports) {
                TextReport.print(r, out);
            }
            for (PlatformReport r : platformReports) {
                TextReport.print(r, out);
            }
        }
        out.flush();
        return reports.stream().anyMatch(r -> r.error() != null)
                || platformReports.stream().anyMatch(r -> r.error() != null) ? EXIT_DEVICE_FAILED : 0;
    }

    private List<PlatformReport> inspectPlatform(Vfio vfio, List<String> names) {
        PlatformInspector inspector = new PlatformInspector(vfio, unsafeNoIommu);
        List<PlatformReport> out = new ArrayList<>();
        for (String n : names) {
            out.add(inspector.inspect(n));
        }
        return out;
    }

    private int platformOnly(Vfio vfio, List<String> names) {
        List<PlatformReport> reports = inspectPlatform(vfio, names);
        if (json) {
            java.util.Map<String, Object> all = new java.util.LinkedHashMap<>();
            all.put("devices", List.of());
            all.put("platformDevices", reports);
            out.println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(all));
        } else {
            for (PlatformReport r : reports) {
                TextReport.print(r, out);
            }
        }
        out.flush();
        return reports.stream().anyMatch(r -> r.error() != null) ? EXIT_DEVICE_FAILED : 0;
    }

    /** Runs the command and returns its exit code. */
    public static int run(Syscalls sys, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new VfioInspect(sys, out));
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(run(Syscalls.linux(), out, err, args));
    }
}
