package org.vfio4j.examples.inspect;

import java.util.List;

/**
 * What {@code vfio-inspect} learned about one platform (or AMBA) device bound to vfio-platform (vfio-amba): VFIO's
 * flags, regions and IRQs, and what its device-tree node or ACPI {@code _CRS} says about the same resources. A
 * device without an IOMMU is opened only with {@code --unsafe-noiommu}; otherwise {@link #note} says why it was not.
 */
public record PlatformReport(
        String device,
        String driver,
        Integer iommuGroup,
        Boolean noIommu,
        Integer deviceFlags,
        List<String> deviceFlagNames,
        List<DeviceReport.Region> regions,
        List<DeviceReport.Irq> irqs,
        Firmware firmware,
        String note,
        String error) {

    /** The correlated firmware description: where, compatible, and each region and interrupt in index order. */
    public record Firmware(String source, List<String> compatible, List<String> regions, List<String> irqs) {
    }
}
