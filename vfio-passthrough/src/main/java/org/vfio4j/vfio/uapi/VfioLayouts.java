package org.vfio4j.vfio.uapi;

/**
 * Byte layouts (sizeof and offsetof) of the {@code linux/vfio.h} structures this library exchanges with the kernel, for
 * filling JNA {@code Memory} buffers at explicit offsets. All fields are little-endian on x86-64. Every value is
 * compared with gcc's view of the installed headers by {@code VfioUapiHeaderTest}.
 */
public final class VfioLayouts {
    private VfioLayouts() {
    }

    /** {@code struct vfio_info_cap_header}: the header every capability in an INFO chain starts with. */
    public static final class CapHeader {
        public static final int SIZE = 8;
        public static final int ID = 0;
        public static final int VERSION = 2;
        public static final int NEXT = 4;

        private CapHeader() {
        }
    }

    /** {@code struct vfio_group_status}. */
    public static final class GroupStatus {
        public static final int SIZE = 8;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;

        private GroupStatus() {
        }
    }

    /** {@code struct vfio_device_info}. */
    public static final class DeviceInfo {
        public static final int SIZE = 20;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int NUM_REGIONS = 8;
        public static final int NUM_IRQS = 12;
        public static final int CAP_OFFSET = 16;

        private DeviceInfo() {
        }
    }

    /** {@code struct vfio_region_info}. */
    public static final class RegionInfo {
        public static final int SIZE = 32;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int INDEX = 8;
        public static final int CAP_OFFSET = 12;
        public static final int REGION_SIZE = 16;
        public static final int OFFSET = 24;

        private RegionInfo() {
        }
    }

    /** {@code struct vfio_region_info_cap_sparse_mmap} with its {@code struct vfio_region_sparse_mmap_area} array. */
    public static final class SparseMmapCap {
        public static final int SIZE = 16;
        public static final int NR_AREAS = 8;
        public static final int AREAS = 16;
        public static final int AREA_SIZE = 16;
        public static final int AREA_OFFSET = 0;
        public static final int AREA_LENGTH = 8;

        private SparseMmapCap() {
        }
    }

    /** {@code struct vfio_region_info_cap_type}. */
    public static final class TypeCap {
        public static final int SIZE = 16;
        public static final int TYPE = 8;
        public static final int SUBTYPE = 12;

        private TypeCap() {
        }
    }

    /** {@code struct vfio_irq_info}. */
    public static final class IrqInfo {
        public static final int SIZE = 16;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int INDEX = 8;
        public static final int COUNT = 12;

        private IrqInfo() {
        }
    }

    /** {@code struct vfio_irq_set}; {@code data[]} follows at {@link #DATA}. */
    public static final class IrqSet {
        public static final int SIZE = 20;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int INDEX = 8;
        public static final int START = 12;
        public static final int COUNT = 16;
        public static final int DATA = 20;

        private IrqSet() {
        }
    }

    /** {@code struct vfio_pci_hot_reset_info} with its {@code struct vfio_pci_dependent_device} array. */
    public static final class HotResetInfo {
        public static final int SIZE = 12;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int COUNT = 8;
        public static final int DEVICES = 12;
        public static final int DEVICE_SIZE = 8;
        public static final int DEVICE_GROUP_ID = 0;
        public static final int DEVICE_SEGMENT = 4;
        public static final int DEVICE_BUS = 6;
        public static final int DEVICE_DEVFN = 7;

        private HotResetInfo() {
        }
    }

    /** {@code struct vfio_pci_hot_reset}; the {@code __s32 group_fds[]} follow at {@link #GROUP_FDS}. */
    public static final class HotReset {
        public static final int SIZE = 12;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int COUNT = 8;
        public static final int GROUP_FDS = 12;

        private HotReset() {
        }
    }

    /** {@code struct vfio_iommu_type1_info}. Note the 4 bytes of tail padding: sizeof is 24, not 20. */
    public static final class Type1Info {
        public static final int SIZE = 24;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int IOVA_PGSIZES = 8;
        public static final int CAP_OFFSET = 16;

        private Type1Info() {
        }
    }

    /** {@code struct vfio_iommu_type1_info_cap_iova_range} with its {@code struct vfio_iova_range} array. */
    public static final class IovaRangeCap {
        public static final int SIZE = 16;
        public static final int NR_IOVAS = 8;
        public static final int IOVA_RANGES = 16;
        public static final int RANGE_SIZE = 16;
        public static final int RANGE_START = 0;
        public static final int RANGE_END = 8;

        private IovaRangeCap() {
        }
    }

    /** {@code struct vfio_iommu_type1_info_cap_migration}. */
    public static final class MigrationCap {
        public static final int SIZE = 32;
        public static final int FLAGS = 8;
        public static final int PGSIZE_BITMAP = 16;
        public static final int MAX_DIRTY_BITMAP_SIZE = 24;

        private MigrationCap() {
        }
    }

    /** {@code struct vfio_iommu_type1_info_dma_avail}. */
    public static final class DmaAvailCap {
        public static final int SIZE = 12;
        public static final int AVAIL = 8;

        private DmaAvailCap() {
        }
    }

    /** {@code struct vfio_device_ioeventfd}; {@code fd} -1 de-assigns. */
    public static final class DeviceIoEventFd {
        public static final int SIZE = 32;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int OFFSET = 8;
        public static final int DATA = 16;
        public static final int FD = 24;

        private DeviceIoEventFd() {
        }
    }

    /** {@code struct vfio_iommu_type1_dma_map}. */
    public static final class DmaMap {
        public static final int SIZE = 32;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int VADDR = 8;
        public static final int IOVA = 16;
        public static final int MAP_SIZE = 24;

        private DmaMap() {
        }
    }

    /** {@code struct vfio_iommu_type1_dma_unmap}. */
    public static final class DmaUnmap {
        public static final int SIZE = 24;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int IOVA = 8;
        public static final int UNMAP_SIZE = 16;

        private DmaUnmap() {
        }
    }
}
