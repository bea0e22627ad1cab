package org.vfio4j.examples.inspect;

import java.util.ArrayList;
import java.util.List;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioContainer;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.VfioGroup;
import org.vfio4j.vfio.DeviceInfo;
import org.vfio4j.vfio.iommu.IommuInfo;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.iommu.Type1Iommu;
import org.vfio4j.vfio.iommufd.CdevStack;
import org.vfio4j.vfio.iommufd.IommufdVfio;
import org.vfio4j.vfio.irq.IrqInfo;
import org.vfio4j.vfio.region.RegionCapability;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.HotResetInfo;
import org.vfio4j.vfio.uapi.VfioConstants;

/**
 * Reads everything VFIO tells about a device into a {@link DeviceReport}. Each device gets its own container, so
 * the IOMMU information is what this device's group alone sees. Nothing is changed on the device: no reset, no DMA
 * mapping, no interrupt setup.
 */
public final class Inspector {
    private final Vfio vfio;

    public Inspector(Vfio vfio) {
        this.vfio = vfio;
    }

    /** Inspects the device named by a BDF or a sysfs path. Failures end up in the report, never thrown. */
    public DeviceReport inspect(String bdfOrPath) {
        String device = bdfOrPath;
        Integer groupId = null;
        Boolean viable = null;
        List<String> offenders = null;
        try {
            device = vfio.sysfs().deviceName(bdfOrPath);
            groupId = vfio.groupOf(bdfOrPath);
            try (VfioContainer container = vfio.openContainer(); VfioGroup group = vfio.openGroup(groupId)) {
                viable = group.isViable();
                if (!viable) {
                    offenders = VfioGroup.offenders(vfio.sysfs(), groupId);
                    return new DeviceReport(device, groupId, false, offenders, null, null, null, null, null, null,
                            null, "group " + groupId + " is not viable: every device in it must be bound to vfio");
                }
                container.attach(group);
                Type1Iommu iommu = container.setIommu();
                DeviceReport.Iommu iommuReport = iommu(iommu);
                try (VfioDevice dev = group.openDevice(device)) {
                    return deviceReport(device, groupId, iommuReport, dev);
                }
            }
        } catch (RuntimeException e) {
            return new DeviceReport(device, groupId, viable, offenders, null, null, null, null, null, null, null,
                    e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /**
     * Inspects the device through the iommufd / VFIO cdev backend instead: the device's cdev bound to a new iommufd
     * and attached to a new IOAS. The IOMMU part of the report is the IOAS (type {@code "iommufd IOAS <id>"}, its
     * allowed ranges, no DMA_AVAIL); hot-reset dependencies carry device ids within that iommufd, not groups.
     */
    public DeviceReport inspectThroughIommufd(String bdfOrPath) {
        String device = bdfOrPath;
        Integer groupId = null;
        try {
            device = vfio.sysfs().deviceName(bdfOrPath);
            groupId = vfio.groupOf(bdfOrPath);
            try (CdevStack stack = new IommufdVfio(vfio).openPciDevice(bdfOrPath)) {
                List<DeviceReport.Range> ranges = new ArrayList<>();
                for (IovaRange r : stack.ioas().iovaRanges()) {
                    ranges.add(new DeviceReport.Range(hex(r.start()), hex(r.end())));
                }
                List<String> alignment = List.of(humanSize(stack.ioas().queryRanges().alignment()));
                DeviceReport.Iommu iommu = new DeviceReport.Iommu("iommufd IOAS " + stack.ioas().id() + " (cdev "
                        + stack.cdevName() + ")", alignment, ranges, null, null);
                return deviceReport(device, groupId, iommu, stack.device());
            }
        } catch (RuntimeException e) {
            return new DeviceReport(device, groupId, null, null, null, null, null, null, null, null, null,
                    e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private DeviceReport deviceReport(String device, Integer groupId, DeviceReport.Iommu iommuReport,
            VfioDevice dev) {
        DeviceInfo info = dev.info();
        List<DeviceReport.Region> regions = new ArrayList<>();
        for (RegionInfo r : dev.regions()) {
            regions.add(region(r));
        }
        List<DeviceReport.Irq> irqs = new ArrayList<>();
        for (IrqInfo i : dev.irqInfos()) {
            irqs.add(new DeviceReport.Irq(i.index(), i.name(), i.flags(), irqFlagNames(i), i.count()));
        }
        List<DeviceReport.ResetDependency> deps = null;
        String hotResetError = null;
        try {
            HotResetInfo hot = dev.hotResetInfo();
            deps = new ArrayList<>();
            for (DependentDevice d : hot.devices()) {
                // A cdev-opened device gets device ids in that field (dev-id form); report the group from sysfs.
                int group = dev.group() != null ? d.groupId() : groupFromSysfs(d.bdf());
                deps.add(new DeviceReport.ResetDependency(d.bdf(), group));
            }
        } catch (RuntimeException e) {
            // Devices without a bus or slot reset answer this ioctl with an error; that is information.
            hotResetError = e.getMessage();
        }
        return new DeviceReport(device, groupId, true, List.of(), iommuReport, info.flags(), info.flagNames(),
                regions, irqs, deps, hotResetError, null);
    }

    private int groupFromSysfs(String bdf) {
        try {
            return vfio.groupOf(bdf);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static DeviceReport.Iommu iommu(Type1Iommu iommu) {
        IommuInfo info = iommu.info();
        List<String> pageSizes = new ArrayList<>();
        long bitmap = info.iovaPageSizes();
        for (int bit = 0; bit < 64; bit++) {
            if ((bitmap & (1L << bit)) != 0) {
                pageSizes.add(humanSize(1L << bit));
            }
        }
        List<DeviceReport.Range> ranges = null;
        if (info.iovaRanges().isPresent()) {
            ranges = new ArrayList<>();
            for (IovaRange r : info.iovaRanges().get()) {
                ranges.add(new DeviceReport.Range(hex(r.start()), hex(r.end())));
            }
        }
        Long dmaAvailable = info.dmaAvailable().isPresent() ? info.dmaAvailable().getAsLong() : null;
        String migration = info.migration().map(Object::toString).orElse(null);
        String type = iommu.type() == VfioConstants.VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1";
        return new DeviceReport.Iommu(type, pageSizes, ranges, dmaAvailable, migration);
    }

    private static DeviceReport.Region region(RegionInfo r) {
        List<String> flags = new ArrayList<>();
        if (r.readable()) {
            flags.add("READ");
        }
        if (r.writable()) {
            flags.add("WRITE");
        }
        if (r.mmappable()) {
            flags.add("MMAP");
        }
        if ((r.flags() & VfioConstants.VFIO_REGION_INFO_FLAG_CAPS) != 0) {
            flags.add("CAPS");
        }
        List<String> caps = new ArrayList<>();
        for (RegionCapability c : r.capabilities()) {
            caps.add(c.toString());
        }
        return new DeviceReport.Region(r.index(), r.name(), r.flags(), flags, hex(r.size()), hex(r.offset()), caps);
    }

    private static List<String> irqFlagNames(IrqInfo i) {
        List<String> flags = new ArrayList<>();
        if (i.eventfd()) {
            flags.add("EVENTFD");
        }
        if (i.maskable()) {
            flags.add("MASKABLE");
        }
        if (i.automasked()) {
            flags.add("AUTOMASKED");
        }
        if (i.noResize()) {
            flags.add("NORESIZE");
        }
        return flags;
    }

    static String hex(long v) {
        return String.format("0x%x", v);
    }

    static String humanSize(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int u = 0;
        long v = bytes;
        while (v >= 1024 && v % 1024 == 0 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v + " " + units[u];
    }
}
