package org.vfio4j.vfio.uapi;

/**
 * Constant values of {@code linux/vfio.h}: extension ids, flag bits, capability ids, region types and the fixed
 * vfio-pci region and IRQ indices. Every value here is compared with the C headers by {@code VfioUapiHeaderTest}.
 */
public final class VfioConstants {
    /** The only API version the kernel has ever reported. */
    public static final int VFIO_API_VERSION = 0;

    // Extensions (VFIO_CHECK_EXTENSION) and IOMMU types (VFIO_SET_IOMMU).
    /** Type1 IOMMU (x86 and most others). */
    public static final int VFIO_TYPE1_IOMMU = 1;
    /** sPAPR TCE IOMMU (POWER). */
    public static final int VFIO_SPAPR_TCE_IOMMU = 2;
    /** Type1 v2: no unmap bisecting, MSI reserved regions reported; preferred. */
    public static final int VFIO_TYPE1v2_IOMMU = 3;
    /** All IOMMUs in the container enforce DMA cache coherence. */
    public static final int VFIO_DMA_CC_IOMMU = 4;
    /** EEH (POWER error recovery). */
    public static final int VFIO_EEH = 5;
    /** Two-stage type1 IOMMU. */
    public static final int VFIO_TYPE1_NESTING_IOMMU = 6;
    /** sPAPR TCE v2. */
    public static final int VFIO_SPAPR_TCE_v2_IOMMU = 7;
    /** The unsafe no-IOMMU mode. */
    public static final int VFIO_NOIOMMU_IOMMU = 8;
    /** {@link #VFIO_DMA_UNMAP_FLAG_ALL} is supported. */
    public static final int VFIO_UNMAP_ALL = 9;
    /** {@link #VFIO_DMA_MAP_FLAG_VADDR} is supported. */
    public static final int VFIO_UPDATE_VADDR = 10;

    // struct vfio_group_status.flags
    /** Every device in the group is bound to a vfio driver (or is otherwise safe). */
    public static final int VFIO_GROUP_FLAGS_VIABLE = 1 << 0;
    /** The group is attached to a container. */
    public static final int VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1;

    // struct vfio_device_info.flags
    /** The device supports VFIO_DEVICE_RESET. */
    public static final int VFIO_DEVICE_FLAGS_RESET = 1 << 0;
    /** A vfio-pci device. */
    public static final int VFIO_DEVICE_FLAGS_PCI = 1 << 1;
    /** A vfio-platform device. */
    public static final int VFIO_DEVICE_FLAGS_PLATFORM = 1 << 2;
    /** A vfio-amba device. */
    public static final int VFIO_DEVICE_FLAGS_AMBA = 1 << 3;
    /** A vfio-ccw device. */
    public static final int VFIO_DEVICE_FLAGS_CCW = 1 << 4;
    /** A vfio-ap device. */
    public static final int VFIO_DEVICE_FLAGS_AP = 1 << 5;
    /** A vfio-fsl-mc device. */
    public static final int VFIO_DEVICE_FLAGS_FSL_MC = 1 << 6;
    /** The info carries a capability chain. */
    public static final int VFIO_DEVICE_FLAGS_CAPS = 1 << 7;

    // struct vfio_region_info.flags
    /** The region supports read. */
    public static final int VFIO_REGION_INFO_FLAG_READ = 1 << 0;
    /** The region supports write. */
    public static final int VFIO_REGION_INFO_FLAG_WRITE = 1 << 1;
    /** The region supports mmap. */
    public static final int VFIO_REGION_INFO_FLAG_MMAP = 1 << 2;
    /** The info carries a capability chain. */
    public static final int VFIO_REGION_INFO_FLAG_CAPS = 1 << 3;

    // Region capability ids
    /** Sparse mmap: only the listed areas of the region can be mmapped. */
    public static final int VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
    /** Region type and subtype. */
    public static final int VFIO_REGION_INFO_CAP_TYPE = 2;
    /** The MSI-X table inside this BAR may be mmapped. */
    public static final int VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
    /** NVLink2 SSA target address (POWER). */
    public static final int VFIO_REGION_INFO_CAP_NVLINK2_SSATGT = 4;
    /** NVLink2 link speed (POWER). */
    public static final int VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD = 5;

    // Region types
    /** Type bit marking a PCI vendor type; the low 16 bits hold the vendor id. */
    public static final int VFIO_REGION_TYPE_PCI_VENDOR_TYPE = 1 << 31;
    /** Mask of the vendor id in a PCI vendor type. */
    public static final int VFIO_REGION_TYPE_PCI_VENDOR_MASK = 0xffff;
    /** Graphics region type. */
    public static final int VFIO_REGION_TYPE_GFX = 1;
    /** s390 channel I/O region type. */
    public static final int VFIO_REGION_TYPE_CCW = 2;
    /** The deprecated v1 migration region type. */
    public static final int VFIO_REGION_TYPE_MIGRATION_DEPRECATED = 3;
    /** Intel (0x8086) subtype: the IGD OpRegion. */
    public static final int VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION = 1;
    /** Intel (0x8086) subtype: the host bridge's config space, read-only. */
    public static final int VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG = 2;
    /** Intel (0x8086) subtype: the LPC bridge's config space, read-only. */
    public static final int VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG = 3;
    /** NVIDIA (0x10de) subtype: NVLink2 GPU RAM. */
    public static final int VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM = 1;
    /** IBM (0x1014) subtype: NVLink2 ATSD registers. */
    public static final int VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD = 1;
    /** GFX subtype: the EDID region. */
    public static final int VFIO_REGION_SUBTYPE_GFX_EDID = 1;
    /** CCW subtype: asynchronous commands. */
    public static final int VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD = 1;
    /** CCW subtype: the subchannel information block. */
    public static final int VFIO_REGION_SUBTYPE_CCW_SCHIB = 2;
    /** CCW subtype: channel report words. */
    public static final int VFIO_REGION_SUBTYPE_CCW_CRW = 3;
    /** Migration subtype of the deprecated v1 migration region. */
    public static final int VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED = 1;

    // struct vfio_irq_info.flags
    /** The index can be signalled through an eventfd. */
    public static final int VFIO_IRQ_INFO_EVENTFD = 1 << 0;
    /** The index supports mask/unmask. */
    public static final int VFIO_IRQ_INFO_MASKABLE = 1 << 1;
    /** The kernel masks the interrupt when it fires (level-triggered INTx); the user must unmask. */
    public static final int VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
    /** The vector count cannot be changed without disabling the index first. */
    public static final int VFIO_IRQ_INFO_NORESIZE = 1 << 3;

    // struct vfio_irq_set.flags
    /** No data follows the header. */
    public static final int VFIO_IRQ_SET_DATA_NONE = 1 << 0;
    /** One u8 boolean per vector follows. */
    public static final int VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
    /** One s32 eventfd per vector follows; -1 unassigns. */
    public static final int VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
    /** Mask the vectors. */
    public static final int VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
    /** Unmask the vectors (with DATA_EVENTFD: unmask whenever the eventfd is signalled). */
    public static final int VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
    /** Trigger the vectors (with DATA_EVENTFD: signal the eventfd when the interrupt fires). */
    public static final int VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;

    /** {@code VFIO_DEVICE_IOEVENTFD} flags: the width of the write (exactly one). */
    public static final int VFIO_DEVICE_IOEVENTFD_8 = 1 << 0;
    public static final int VFIO_DEVICE_IOEVENTFD_16 = 1 << 1;
    public static final int VFIO_DEVICE_IOEVENTFD_32 = 1 << 2;
    public static final int VFIO_DEVICE_IOEVENTFD_64 = 1 << 3;
    public static final int VFIO_DEVICE_IOEVENTFD_SIZE_MASK = 0xf;
    /** All DATA_* bits. */
    public static final int VFIO_IRQ_SET_DATA_TYPE_MASK =
            VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
    /** All ACTION_* bits. */
    public static final int VFIO_IRQ_SET_ACTION_TYPE_MASK =
            VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;

    // vfio-pci region indices
    /** BAR0 region index; BAR1..5 follow. */
    public static final int VFIO_PCI_BAR0_REGION_INDEX = 0;
    /** BAR1 region index. */
    public static final int VFIO_PCI_BAR1_REGION_INDEX = 1;
    /** BAR2 region index. */
    public static final int VFIO_PCI_BAR2_REGION_INDEX = 2;
    /** BAR3 region index. */
    public static final int VFIO_PCI_BAR3_REGION_INDEX = 3;
    /** BAR4 region index. */
    public static final int VFIO_PCI_BAR4_REGION_INDEX = 4;
    /** BAR5 region index. */
    public static final int VFIO_PCI_BAR5_REGION_INDEX = 5;
    /** Expansion ROM region index. */
    public static final int VFIO_PCI_ROM_REGION_INDEX = 6;
    /** Config space region index. */
    public static final int VFIO_PCI_CONFIG_REGION_INDEX = 7;
    /** Legacy VGA region index (I/O 0x3b0-0x3bb, 0x3c0-0x3df, memory 0xa0000-0xbffff at identity offsets). */
    public static final int VFIO_PCI_VGA_REGION_INDEX = 8;
    /** Fixed regions; indices from here on are device specific and described by a type capability. */
    public static final int VFIO_PCI_NUM_REGIONS = 9;

    // vfio-pci IRQ indices
    /** Legacy INTx. */
    public static final int VFIO_PCI_INTX_IRQ_INDEX = 0;
    /** MSI. */
    public static final int VFIO_PCI_MSI_IRQ_INDEX = 1;
    /** MSI-X. */
    public static final int VFIO_PCI_MSIX_IRQ_INDEX = 2;
    /** AER error reporting. */
    public static final int VFIO_PCI_ERR_IRQ_INDEX = 3;
    /** Device request (the host wants the device back). */
    public static final int VFIO_PCI_REQ_IRQ_INDEX = 4;
    /** Number of vfio-pci IRQ indices. */
    public static final int VFIO_PCI_NUM_IRQS = 5;

    // struct vfio_iommu_type1_info
    /** {@code iova_pgsizes} is valid. */
    public static final int VFIO_IOMMU_INFO_PGSIZES = 1 << 0;
    /** The info carries a capability chain. */
    public static final int VFIO_IOMMU_INFO_CAPS = 1 << 1;
    /** IOMMU cap: valid IOVA ranges. */
    public static final int VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
    /** IOMMU cap: dirty-page tracking for migration. */
    public static final int VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
    /** IOMMU cap: how many more DMA mappings may be created. */
    public static final int VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

    // struct vfio_iommu_type1_dma_map / unmap flags
    /** The device may read the mapping. */
    public static final int VFIO_DMA_MAP_FLAG_READ = 1 << 0;
    /** The device may write the mapping. */
    public static final int VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;
    /** Update the vaddr of an invalidated mapping. */
    public static final int VFIO_DMA_MAP_FLAG_VADDR = 1 << 2;
    /** Return a dirty bitmap while unmapping. */
    public static final int VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0;
    /** Unmap everything (iova and size must be 0). */
    public static final int VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1;
    /** Invalidate vaddrs without unmapping. */
    public static final int VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2;

    /** The PCI vendor id of Intel, for {@link #VFIO_REGION_TYPE_PCI_VENDOR_TYPE} types. */
    public static final int PCI_VENDOR_ID_INTEL = 0x8086;
    /** The PCI vendor id of NVIDIA. */
    public static final int PCI_VENDOR_ID_NVIDIA = 0x10de;
    /** The PCI vendor id of IBM. */
    public static final int PCI_VENDOR_ID_IBM = 0x1014;

    private VfioConstants() {
    }
}
