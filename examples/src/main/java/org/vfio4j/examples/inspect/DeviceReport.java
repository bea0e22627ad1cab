package org.vfio4j.examples.inspect;

import java.util.List;

/**
 * What {@code vfio-inspect} learned about one device. Records serialize to JSON as they are; fields that could not
 * be read are {@code null} and {@link #error} says why.
 */
public record DeviceReport(
        String device,
        Integer iommuGroup,
        Boolean groupViable,
        List<String> devicesNotBoundToVfio,
        Iommu iommu,
        Integer deviceFlags,
        List<String> deviceFlagNames,
        List<Region> regions,
        List<Irq> irqs,
        List<ResetDependency> hotResetDependencies,
        String hotResetError,
        String error) {

    /** The container's type1 IOMMU as seen with this device's group attached. */
    public record Iommu(String type, List<String> pageSizes, List<Range> iovaRanges, Long dmaAvailable,
            String migration) {
    }

    /** An IOVA range, inclusive. */
    public record Range(String start, String end) {
    }

    /** One region of the device. */
    public record Region(int index, String name, int flags, List<String> flagNames, String size, String offset,
            List<String> capabilities) {
    }

    /** One IRQ index of the device. */
    public record Irq(int index, String name, int flags, List<String> flagNames, int count) {
    }

    /** A device a hot reset of this one also resets. */
    public record ResetDependency(String device, int iommuGroup) {
    }
}
