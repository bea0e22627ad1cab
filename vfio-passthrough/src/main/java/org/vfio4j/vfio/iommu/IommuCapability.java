package org.vfio4j.vfio.iommu;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.vfio4j.vfio.caps.RawCapability;
import org.vfio4j.vfio.uapi.VfioLayouts.DmaAvailCap;
import org.vfio4j.vfio.uapi.VfioLayouts.IovaRangeCap;
import org.vfio4j.vfio.uapi.VfioLayouts.MigrationCap;

/**
 * A decoded capability of {@code VFIO_IOMMU_GET_INFO} (type1). Unknown ids, and known ones too short for their
 * struct, stay {@link Unknown}.
 */
public sealed interface IommuCapability
        permits IommuCapability.IovaRanges, IommuCapability.DmaAvailable, IommuCapability.Migration,
        IommuCapability.Unknown {

    /** The raw capability this was decoded from. */
    RawCapability raw();

    /** {@code VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE}: the IOVA ranges DMA may be mapped at; gaps are reserved. */
    record IovaRanges(List<IovaRange> ranges, RawCapability raw) implements IommuCapability {
        /** Copies the list. */
        public IovaRanges {
            ranges = List.copyOf(ranges);
        }

        @Override
        public String toString() {
            return "iova-ranges " + ranges;
        }
    }

    /** {@code VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL}: how many more DMA mappings the container may create. */
    record DmaAvailable(long available, RawCapability raw) implements IommuCapability {
        @Override
        public String toString() {
            return "dma-avail " + available;
        }
    }

    /** {@code VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION}: dirty page tracking parameters. */
    record Migration(int flags, long pageSizeBitmap, long maxDirtyBitmapSize, RawCapability raw)
            implements IommuCapability {
        @Override
        public String toString() {
            return String.format("migration flags 0x%x pgsizes 0x%x max-dirty-bitmap %d", flags, pageSizeBitmap,
                    maxDirtyBitmapSize);
        }
    }

    /** A capability kept raw. */
    record Unknown(RawCapability raw) implements IommuCapability {
        @Override
        public String toString() {
            return "unknown " + raw;
        }
    }

    /** Decodes one raw capability; never throws. */
    static IommuCapability decode(RawCapability raw) {
        ByteBuffer b = raw.buffer();
        switch (raw.id()) {
            case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: {
                if (raw.length() < IovaRangeCap.SIZE) {
                    return new Unknown(raw);
                }
                long n = Integer.toUnsignedLong(b.getInt(IovaRangeCap.NR_IOVAS));
                if (n > (raw.length() - IovaRangeCap.IOVA_RANGES) / IovaRangeCap.RANGE_SIZE) {
                    return new Unknown(raw);
                }
                List<IovaRange> ranges = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int at = IovaRangeCap.IOVA_RANGES + i * IovaRangeCap.RANGE_SIZE;
                    long start = b.getLong(at + IovaRangeCap.RANGE_START);
                    long end = b.getLong(at + IovaRangeCap.RANGE_END);
                    if (Long.compareUnsigned(end, start) < 0) {
                        return new Unknown(raw);
                    }
                    ranges.add(new IovaRange(start, end));
                }
                return new IovaRanges(ranges, raw);
            }
            case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
                if (raw.length() < DmaAvailCap.SIZE) {
                    return new Unknown(raw);
                }
                return new DmaAvailable(Integer.toUnsignedLong(b.getInt(DmaAvailCap.AVAIL)), raw);
            case VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION:
                if (raw.length() < MigrationCap.SIZE) {
                    return new Unknown(raw);
                }
                return new Migration(b.getInt(MigrationCap.FLAGS), b.getLong(MigrationCap.PGSIZE_BITMAP),
                        b.getLong(MigrationCap.MAX_DIRTY_BITMAP_SIZE), raw);
            default:
                return new Unknown(raw);
        }
    }
}
