package org.vfio4j.examples.inspect;

import java.io.PrintWriter;

/** Prints a {@link DeviceReport} for people. */
final class TextReport {
    private TextReport() {
    }

    static void print(DeviceReport r, PrintWriter out) {
        out.printf("device %s%n", r.device());
        if (r.iommuGroup() != null) {
            out.printf("  iommu group %d: %s%n", r.iommuGroup(),
                    r.groupViable() == null ? "unknown" : r.groupViable() ? "viable" : "NOT viable");
        }
        if (r.devicesNotBoundToVfio() != null && !r.devicesNotBoundToVfio().isEmpty()) {
            out.printf("    not bound to vfio: %s%n", String.join(", ", r.devicesNotBoundToVfio()));
        }
        if (r.error() != null) {
            out.printf("  error: %s%n", r.error());
            return;
        }
        DeviceReport.Iommu iommu = r.iommu();
        out.printf("  iommu %s, page sizes %s%n", iommu.type(), String.join(", ", iommu.pageSizes()));
        if (iommu.iovaRanges() != null) {
            for (DeviceReport.Range range : iommu.iovaRanges()) {
                out.printf("    iova range %s-%s%n", range.start(), range.end());
            }
        }
        out.printf("    dma mappings available: %s%n",
                iommu.dmaAvailable() == null ? "not reported" : iommu.dmaAvailable());
        if (iommu.migration() != null) {
            out.printf("    %s%n", iommu.migration());
        }
        out.printf("  flags 0x%x %s%n", r.deviceFlags(), r.deviceFlagNames());
        out.println("  regions:");
        for (DeviceReport.Region g : r.regions()) {
            out.printf("    %2d %-6s size %-10s offset %-14s flags 0x%x %s%n", g.index(), g.name(), g.size(),
                    g.offset(), g.flags(), g.flagNames());
            for (String cap : g.capabilities()) {
                out.printf("         cap %s%n", cap);
            }
        }
        out.println("  irqs:");
        for (DeviceReport.Irq i : r.irqs()) {
            out.printf("    %d %-5s count %-4d flags 0x%x %s%n", i.index(), i.name(), i.count(), i.flags(),
                    i.flagNames());
        }
        if (r.hotResetDependencies() != null) {
            out.println("  hot reset resets:");
            for (DeviceReport.ResetDependency d : r.hotResetDependencies()) {
                out.printf("    %s (group %d)%n", d.device(), d.iommuGroup());
            }
        } else {
            out.printf("  hot reset: not available (%s)%n", r.hotResetError());
        }
    }

    static void print(PlatformReport r, PrintWriter out) {
        out.printf("platform device %s (driver %s)%n", r.device(), r.driver() == null ? "none" : r.driver());
        if (r.iommuGroup() != null) {
            out.printf("  iommu group %d%s%n", r.iommuGroup(), Boolean.TRUE.equals(r.noIommu())
                    ? ": NO IOMMU (unsafe no-IOMMU mode; the device can DMA anywhere)" : "");
        }
        if (r.firmware() != null) {
            out.printf("  firmware: %s %s%n", r.firmware().source(), r.firmware().compatible());
            for (String g : r.firmware().regions()) {
                out.printf("    %s%n", g);
            }
            for (String i : r.firmware().irqs()) {
                out.printf("    %s%n", i);
            }
        } else {
            out.println("  firmware: no device-tree node or ACPI companion");
        }
        if (r.note() != null) {
            out.printf("  %s%n", r.note());
        }
        if (r.error() != null) {
            out.printf("  error: %s%n", r.error());
            return;
        }
        if (r.deviceFlags() == null) {
            return;
        }
        out.printf("  flags 0x%x %s%n", r.deviceFlags(), r.deviceFlagNames());
        out.println("  regions:");
        for (DeviceReport.Region g : r.regions()) {
            out.printf("    %2d size %-10s offset %-16s flags 0x%x %s%n", g.index(), g.size(), g.offset(), g.flags(),
                    g.flagNames());
        }
        out.println("  irqs:");
        for (DeviceReport.Irq i : r.irqs()) {
            out.printf("    %d count %-4d flags 0x%x %s%n", i.index(), i.count(), i.flags(), i.flagNames());
        }
    }
}
