package org.vfio4j.vfio.platform;

/**
 * How {@link VfioPlatformDevice#open} opens a device.
 *
 * @param unsafeNoIommu accept a device without an IOMMU, opened through {@code /dev/vfio/noiommu-N} with the
 *     {@code VFIO_NOIOMMU_IOMMU} container type (the kernel's unsafe no-IOMMU mode). <b>Such a device can DMA to
 *     any host memory</b>: nothing confines it to the guest, and a guest that drives its DMA can read and write the
 *     whole host. Off by default; a device without an IOMMU is then refused before anything is opened.
 * @param checkFirmware correlate the regions and interrupts with the device-tree node or ACPI {@code _CRS} of the
 *     device and refuse it on a mismatch (a device the firmware does not describe is accepted as it is)
 */
public record PlatformOptions(boolean unsafeNoIommu, boolean checkFirmware) {

    /** With an IOMMU only, firmware checked. */
    public static PlatformOptions defaults() {
        return new PlatformOptions(false, true);
    }

    /**
     * Also accepts a device without an IOMMU: it can DMA anywhere in host memory (see {@link #unsafeNoIommu()}).
     */
    public PlatformOptions allowingUnsafeNoIommu() {
        return new PlatformOptions(true, checkFirmware);
    }

    /** Without the firmware check. */
    public PlatformOptions withoutFirmwareCheck() {
        return new PlatformOptions(unsafeNoIommu, false);
    }
}
