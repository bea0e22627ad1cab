package org.vfio4j.vfio.iommufd;

/**
 * Byte layouts (sizeof and offsetof) of the iommufd structures and of the cdev structures of {@code linux/vfio.h},
 * for filling JNA {@code Memory} buffers at explicit offsets (little-endian, x86-64). Checked against the 6.12
 * kernel's uapi headers by {@code IommufdUapiHeaderTest}.
 */
public final class IommufdLayouts {
    private IommufdLayouts() {
    }

    /** {@code struct iommu_destroy}. */
    public static final class Destroy {
        public static final int SIZE = 8;
        public static final int STRUCT_SIZE = 0;
        public static final int ID = 4;

        private Destroy() {
        }
    }

    /** {@code struct iommu_ioas_alloc}. */
    public static final class IoasAlloc {
        public static final int SIZE = 12;
        public static final int STRUCT_SIZE = 0;
        public static final int FLAGS = 4;
        public static final int OUT_IOAS_ID = 8;

        private IoasAlloc() {
        }
    }

    /** {@code struct iommu_ioas_iova_ranges}, and its {@code struct iommu_iova_range} array elements. */
    public static final class IovaRanges {
        public static final int SIZE = 32;
        public static final int STRUCT_SIZE = 0;
        public static final int IOAS_ID = 4;
        public static final int NUM_IOVAS = 8;
        public static final int ALLOWED_IOVAS = 16;
        public static final int OUT_IOVA_ALIGNMENT = 24;
        public static final int RANGE_SIZE = 16;
        public static final int RANGE_START = 0;
        public static final int RANGE_LAST = 8;

        private IovaRanges() {
        }
    }

    /** {@code struct iommu_ioas_map}. */
    public static final class IoasMap {
        public static final int SIZE = 40;
        public static final int STRUCT_SIZE = 0;
        public static final int FLAGS = 4;
        public static final int IOAS_ID = 8;
        public static final int USER_VA = 16;
        public static final int LENGTH = 24;
        public static final int IOVA = 32;

        private IoasMap() {
        }
    }

    /** {@code struct iommu_ioas_unmap}. */
    public static final class IoasUnmap {
        public static final int SIZE = 24;
        public static final int STRUCT_SIZE = 0;
        public static final int IOAS_ID = 4;
        public static final int IOVA = 8;
        public static final int LENGTH = 16;

        private IoasUnmap() {
        }
    }

    /** {@code struct vfio_device_bind_iommufd}. */
    public static final class BindIommufd {
        public static final int SIZE = 16;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int IOMMUFD = 8;
        public static final int OUT_DEVID = 12;

        private BindIommufd() {
        }
    }

    /** {@code struct vfio_device_attach_iommufd_pt}. */
    public static final class AttachIommufdPt {
        public static final int SIZE = 12;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;
        public static final int PT_ID = 8;

        private AttachIommufdPt() {
        }
    }

    /** {@code struct vfio_device_detach_iommufd_pt}. */
    public static final class DetachIommufdPt {
        public static final int SIZE = 8;
        public static final int ARGSZ = 0;
        public static final int FLAGS = 4;

        private DetachIommufdPt() {
        }
    }
}
