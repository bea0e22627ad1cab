package org.vfio4j.examples.inspect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.irq.IrqInfo;
import org.vfio4j.vfio.platform.FirmwareDevice;
import org.vfio4j.vfio.platform.FirmwareIrq;
import org.vfio4j.vfio.platform.FirmwareRegion;
import org.vfio4j.vfio.platform.PlatformIrq;
import org.vfio4j.vfio.platform.PlatformOptions;
import org.vfio4j.vfio.platform.PlatformRegion;
import org.vfio4j.vfio.platform.VfioPlatformDevice;

/**
 * Reads what VFIO and the firmware tell about a platform device into a {@link PlatformReport}. The device is opened
 * with the firmware check off (a mismatch is shown, not refused) and nothing is changed on it.
 */
final class PlatformInspector {
    private static final String[] DRIVERS = {"bus/platform/drivers/vfio-platform", "bus/amba/drivers/vfio-amba"};

    private final Vfio vfio;
    private final boolean unsafeNoIommu;

    PlatformInspector(Vfio vfio, boolean unsafeNoIommu) {
        this.vfio = vfio;
        this.unsafeNoIommu = unsafeNoIommu;
    }

    /** The devices bound to vfio-platform or vfio-amba, sorted. */
    static List<String> boundDevices(Vfio vfio) {
        List<String> out = new ArrayList<>();
        for (String d : DRIVERS) {
            try (Stream<Path> s = Files.list(vfio.sysfs().sys(d))) {
                s.filter(Files::isSymbolicLink).map(p -> p.getFileName().toString()).forEach(out::add);
            } catch (IOException e) {
                // no such driver on this kernel
            }
        }
        out.sort(null);
        return out;
    }

    /** True when {@code name} is a platform or AMBA device (not a PCI address). */
    static boolean isPlatformDevice(Vfio vfio, String name) {
        return !name.contains("/") && (Files.isDirectory(vfio.sysfs().sys(VfioPlatformDevice.PLATFORM_BUS + name))
                || Files.isDirectory(vfio.sysfs().sys(VfioPlatformDevice.AMBA_BUS + name)));
    }

    PlatformReport inspect(String name) {
        String driver = null;
        Integer group = null;
        Boolean noIommu = null;
        PlatformReport.Firmware fw = null;
        try {
            Path dir = vfio.sysfs().sys((Files.isDirectory(vfio.sysfs().sys(VfioPlatformDevice.PLATFORM_BUS + name))
                    ? VfioPlatformDevice.PLATFORM_BUS : VfioPlatformDevice.AMBA_BUS) + name);
            driver = link(dir.resolve("driver")).orElse(null);
            group = link(dir.resolve("iommu_group")).map(Integer::parseInt).orElse(null);
            noIommu = group != null && "vfio-noiommu".equals(read(vfio.sysfs().sys("kernel/iommu_groups/" + group
                    + "/name")));
            try {
                fw = VfioPlatformDevice.firmwareOf(vfio, name).map(PlatformInspector::firmware).orElse(null);
            } catch (VfioException e) {
                fw = new PlatformReport.Firmware("unreadable: " + e.getMessage(), List.of(), List.of(), List.of());
            }
            if (noIommu && !unsafeNoIommu) {
                return new PlatformReport(name, driver, group, true, null, null, null, null, fw, "not opened: it has "
                        + "no IOMMU (the kernel's unsafe no-IOMMU mode; opening it taints the kernel); "
                        + "--unsafe-noiommu opens it", null);
            }
            PlatformOptions options = PlatformOptions.defaults().withoutFirmwareCheck();
            try (VfioPlatformDevice dev = VfioPlatformDevice.open(vfio, name,
                    unsafeNoIommu ? options.allowingUnsafeNoIommu() : options)) {
                List<DeviceReport.Region> regions = new ArrayList<>();
                for (PlatformRegion r : dev.regions()) {
                    List<String> flags = new ArrayList<>();
                    if (r.info().readable()) {
                        flags.add("READ");
                    }
                    if (r.writable()) {
                        flags.add("WRITE");
                    }
                    if (r.mmappable()) {
                        flags.add("MMAP");
                    }
                    if (r.ioPort()) {
                        flags.add("(I/O ports: not accessible)");
                    }
                    regions.add(new DeviceReport.Region(r.index(), "region" + r.index(), r.flags(), flags,
                            Inspector.hex(r.size()), Inspector.hex(r.info().offset()), List.of()));
                }
                List<DeviceReport.Irq> irqs = new ArrayList<>();
                for (PlatformIrq q : dev.irqs()) {
                    IrqInfo i = q.info();
                    List<String> flags = new ArrayList<>();
                    flags.add(q.trigger().name().toLowerCase());
                    if (i.eventfd()) {
                        flags.add("EVENTFD");
                    }
                    if (i.maskable()) {
                        flags.add("MASKABLE");
                    }
                    if (i.automasked()) {
                        flags.add("AUTOMASKED");
                    }
                    irqs.add(new DeviceReport.Irq(q.index(), "irq" + q.index(), i.flags(), flags, i.count()));
                }
                int flags = dev.device().info().flags();
                return new PlatformReport(name, driver, group, noIommu, flags, dev.device().info().flagNames(),
                        regions, irqs, fw, null, null);
            }
        } catch (RuntimeException e) {
            return new PlatformReport(name, driver, group, noIommu, null, null, null, null, fw, null,
                    e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private static PlatformReport.Firmware firmware(FirmwareDevice d) {
        return new PlatformReport.Firmware(d.source(), d.compatible(),
                d.regions().stream().map(FirmwareRegion::toString).toList(),
                d.irqs().stream().map(FirmwareIrq::toString).toList());
    }

    private static Optional<String> link(Path p) {
        try {
            return Optional.of(Files.readSymbolicLink(p).getFileName().toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
