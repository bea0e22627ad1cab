/**
 * IOMMU backends behind one interface ({@link org.vfio4j.vfio.iommu.DmaMapper}): the legacy type1 container IOMMU
 * today, an iommufd IOAS later. IOVA ranges, reserved holes and DMA mapping bookkeeping live here.
 */
package org.vfio4j.vfio.iommu;
