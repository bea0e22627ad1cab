/**
 * The Linux VFIO uAPI, legacy container model: {@link org.vfio4j.vfio.Vfio} opens
 * {@link org.vfio4j.vfio.VfioContainer}s, {@link org.vfio4j.vfio.VfioGroup}s and
 * {@link org.vfio4j.vfio.VfioDevice}s; each owns its fd and closes once, in the order the kernel needs (devices, then
 * groups, then the container after unmapping DMA). Device code uses only the
 * {@link org.vfio4j.vfio.iommu.DmaMapper} interface for DMA, so an iommufd backend can replace the container later.
 */
package org.vfio4j.vfio;
