package org.vfio4j.vfio.iommufd;

import org.vfio4j.core.sys.Ioctl;

/**
 * The ioctl requests of the iommufd interface: those of {@code linux/iommufd.h} (on {@code /dev/iommu}) and the
 * per-device cdev ones of {@code linux/vfio.h} (on {@code /dev/vfio/devices/vfioN}). Like VFIO, both encode every
 * request as {@code _IO(';', n)} with no size or direction bits; each struct carries its own size. Numbers are
 * checked against the 6.12 kernel's uapi headers by {@code IommufdUapiHeaderTest}.
 */
public final class IommufdIoctls {
    /** {@code IOMMUFD_TYPE}, the ioctl type byte {@code ';'} (shared with VFIO). */
    public static final int IOMMUFD_TYPE = ';';
    /** {@code IOMMUFD_CMD_BASE}, the first iommufd command number. */
    public static final int IOMMUFD_CMD_BASE = 0x80;

    /** {@code /dev/iommu}: {@code struct iommu_destroy}, frees an object (IOAS, HWPT) by id. */
    public static final Ioctl IOMMU_DESTROY = iommufd("IOMMU_DESTROY", 0x80);
    /** {@code /dev/iommu}: {@code struct iommu_ioas_alloc}, returns the new IOAS id. */
    public static final Ioctl IOMMU_IOAS_ALLOC = iommufd("IOMMU_IOAS_ALLOC", 0x81);
    /** {@code /dev/iommu}: {@code struct iommu_ioas_iova_ranges}; EMSGSIZE with the needed count written back. */
    public static final Ioctl IOMMU_IOAS_IOVA_RANGES = iommufd("IOMMU_IOAS_IOVA_RANGES", 0x84);
    /** {@code /dev/iommu}: {@code struct iommu_ioas_map}. */
    public static final Ioctl IOMMU_IOAS_MAP = iommufd("IOMMU_IOAS_MAP", 0x85);
    /** {@code /dev/iommu}: {@code struct iommu_ioas_unmap}; the unmapped length is written back. */
    public static final Ioctl IOMMU_IOAS_UNMAP = iommufd("IOMMU_IOAS_UNMAP", 0x86);

    /** Device cdev: {@code struct vfio_device_bind_iommufd}; the device id is written back. */
    public static final Ioctl VFIO_DEVICE_BIND_IOMMUFD = Ioctl.io("VFIO_DEVICE_BIND_IOMMUFD", IOMMUFD_TYPE, 100 + 18);
    /** Device cdev: {@code struct vfio_device_attach_iommufd_pt}; the page table id may be written back. */
    public static final Ioctl VFIO_DEVICE_ATTACH_IOMMUFD_PT =
            Ioctl.io("VFIO_DEVICE_ATTACH_IOMMUFD_PT", IOMMUFD_TYPE, 100 + 19);
    /** Device cdev: {@code struct vfio_device_detach_iommufd_pt}. */
    public static final Ioctl VFIO_DEVICE_DETACH_IOMMUFD_PT =
            Ioctl.io("VFIO_DEVICE_DETACH_IOMMUFD_PT", IOMMUFD_TYPE, 100 + 20);

    private IommufdIoctls() {
    }

    private static Ioctl iommufd(String name, int nr) {
        return Ioctl.io(name, IOMMUFD_TYPE, nr);
    }
}
