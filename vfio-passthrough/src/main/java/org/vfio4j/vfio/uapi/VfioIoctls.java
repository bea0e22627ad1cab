package org.vfio4j.vfio.uapi;

import org.vfio4j.core.sys.Ioctl;

/**
 * The VFIO ioctl requests of {@code linux/vfio.h}. VFIO encodes every request with {@code _IO(';', 100 + n)} (no size
 * or direction bits), because each struct carries its own {@code argsz}. Numbers are checked against the C headers by
 * {@code VfioUapiHeaderTest}.
 */
public final class VfioIoctls {
    /** {@code VFIO_TYPE}, the ioctl type byte {@code ';'}. */
    public static final int VFIO_TYPE = ';';
    /** {@code VFIO_BASE}, the first ioctl number. */
    public static final int VFIO_BASE = 100;

    /** Container: returns {@link VfioConstants#VFIO_API_VERSION}. */
    public static final Ioctl VFIO_GET_API_VERSION = io("VFIO_GET_API_VERSION", 0);
    /** Container: argument is an extension id by value; returns non-zero when supported. */
    public static final Ioctl VFIO_CHECK_EXTENSION = io("VFIO_CHECK_EXTENSION", 1);
    /** Container: argument is the IOMMU type by value; needs at least one group attached. */
    public static final Ioctl VFIO_SET_IOMMU = io("VFIO_SET_IOMMU", 2);
    /** Group: {@code struct vfio_group_status}. */
    public static final Ioctl VFIO_GROUP_GET_STATUS = io("VFIO_GROUP_GET_STATUS", 3);
    /** Group: pointer to an int holding the container fd. */
    public static final Ioctl VFIO_GROUP_SET_CONTAINER = io("VFIO_GROUP_SET_CONTAINER", 4);
    /** Group: no argument. */
    public static final Ioctl VFIO_GROUP_UNSET_CONTAINER = io("VFIO_GROUP_UNSET_CONTAINER", 5);
    /** Group: pointer to the NUL-terminated device name; returns the device fd. */
    public static final Ioctl VFIO_GROUP_GET_DEVICE_FD = io("VFIO_GROUP_GET_DEVICE_FD", 6);
    /** Device: {@code struct vfio_device_info}. */
    public static final Ioctl VFIO_DEVICE_GET_INFO = io("VFIO_DEVICE_GET_INFO", 7);
    /** Device: {@code struct vfio_region_info}. */
    public static final Ioctl VFIO_DEVICE_GET_REGION_INFO = io("VFIO_DEVICE_GET_REGION_INFO", 8);
    /** Device: {@code struct vfio_irq_info}. */
    public static final Ioctl VFIO_DEVICE_GET_IRQ_INFO = io("VFIO_DEVICE_GET_IRQ_INFO", 9);
    /** Device: {@code struct vfio_irq_set} followed by its data. */
    public static final Ioctl VFIO_DEVICE_SET_IRQS = io("VFIO_DEVICE_SET_IRQS", 10);
    /** Device: no argument. */
    public static final Ioctl VFIO_DEVICE_RESET = io("VFIO_DEVICE_RESET", 11);
    /** Device: {@code struct vfio_pci_hot_reset_info}; ENOSPC with the needed count written back. */
    public static final Ioctl VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = io("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", 12);
    /** Device: {@code struct vfio_pci_hot_reset} with the group fds. */
    public static final Ioctl VFIO_DEVICE_PCI_HOT_RESET = io("VFIO_DEVICE_PCI_HOT_RESET", 13);
    /**
     * Device: {@code struct vfio_device_ioeventfd}: a write of a fixed value and width at a device-fd offset, done by
     * the kernel whenever an eventfd fires (paired with a KVM ioeventfd, a guest write that never leaves the kernel).
     */
    public static final Ioctl VFIO_DEVICE_IOEVENTFD = io("VFIO_DEVICE_IOEVENTFD", 16);
    /** Container (type1): {@code struct vfio_iommu_type1_info}. Shares number 12 with the hot-reset info. */
    public static final Ioctl VFIO_IOMMU_GET_INFO = io("VFIO_IOMMU_GET_INFO", 12);
    /** Container (type1): {@code struct vfio_iommu_type1_dma_map}. */
    public static final Ioctl VFIO_IOMMU_MAP_DMA = io("VFIO_IOMMU_MAP_DMA", 13);
    /** Container (type1): {@code struct vfio_iommu_type1_dma_unmap}; the unmapped size is written back. */
    public static final Ioctl VFIO_IOMMU_UNMAP_DMA = io("VFIO_IOMMU_UNMAP_DMA", 14);

    private VfioIoctls() {
    }

    private static Ioctl io(String name, int n) {
        return Ioctl.io(name, VFIO_TYPE, VFIO_BASE + n);
    }
}
