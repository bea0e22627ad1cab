package org.vfio4j.vfio.iommufd;

/**
 * Flag and special values of {@code linux/iommufd.h} and of the cdev parts of {@code linux/vfio.h}, checked against
 * the 6.12 kernel's uapi headers by {@code IommufdUapiHeaderTest}.
 */
public final class IommufdConstants {
    /** {@code iommu_ioas_map.flags}: map at the given IOVA instead of letting the kernel choose. */
    public static final int IOMMU_IOAS_MAP_FIXED_IOVA = 1;
    /** {@code iommu_ioas_map.flags}: the device may write. */
    public static final int IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
    /** {@code iommu_ioas_map.flags}: the device may read. */
    public static final int IOMMU_IOAS_MAP_READABLE = 1 << 2;

    /** {@code vfio_pci_hot_reset_info.flags}: the entries carry device ids, not group ids (device opened as cdev). */
    public static final int VFIO_PCI_HOT_RESET_FLAG_DEV_ID = 1;
    /** {@code vfio_pci_hot_reset_info.flags}: every affected device is owned through this iommufd. */
    public static final int VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED = 1 << 1;
    /** A dependent device's devid when it is owned implicitly (same IOMMU group as an owned device). */
    public static final int VFIO_PCI_DEVID_OWNED = 0;
    /** A dependent device's devid when this iommufd doesn't own it. */
    public static final int VFIO_PCI_DEVID_NOT_OWNED = -1;

    /** {@code VFIO_NOIOMMU_IOMMU}: the container IOMMU type of the unsafe no-IOMMU mode. */
    public static final int VFIO_NOIOMMU_IOMMU = 8;

    private IommufdConstants() {
    }
}
