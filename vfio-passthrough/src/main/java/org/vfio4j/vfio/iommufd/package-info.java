/**
 * The iommufd / VFIO cdev backend: a device opened through its character device ({@code /dev/vfio/devices/vfioN}),
 * bound to an iommufd ({@code /dev/iommu}) and attached to an IO address space whose DMA mappings go through the
 * same {@link org.vfio4j.vfio.iommu.DmaMapper} seam as the legacy type1 container. Entry point:
 * {@link org.vfio4j.vfio.iommufd.IommufdVfio}. Needs a kernel with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV
 * (Debian's 6.1 and 6.12 have neither; the testbed's "next" kernel has both).
 */
package org.vfio4j.vfio.iommufd;
