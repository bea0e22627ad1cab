package org.vfio4j.vfio.region;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.vfio4j.vfio.caps.RawCapability;
import org.vfio4j.vfio.uapi.VfioLayouts.SparseMmapCap;
import org.vfio4j.vfio.uapi.VfioLayouts.TypeCap;

/**
 * A decoded capability of {@code VFIO_DEVICE_GET_REGION_INFO}. Capabilities this library doesn't know, and known ones
 * too short for their struct, stay {@link Unknown} with their raw bytes.
 */
public sealed interface RegionCapability
        permits RegionCapability.SparseMmap, RegionCapability.Type, RegionCapability.MsixMappable,
        RegionCapability.Unknown {

    /** The raw capability this was decoded from. */
    RawCapability raw();

    /**
     * {@code VFIO_REGION_INFO_CAP_SPARSE_MMAP}: only these areas of the region may be mmapped; the rest must go
     * through read/write (for example the MSI-X table of a BAR).
     */
    record SparseMmap(List<SparseArea> areas, RawCapability raw) implements RegionCapability {
        /** Copies the list. */
        public SparseMmap {
            areas = List.copyOf(areas);
        }

        @Override
        public String toString() {
            return "sparse-mmap " + areas;
        }
    }

    /** {@code VFIO_REGION_INFO_CAP_TYPE}: what a device-specific region is. */
    record Type(RegionType type, RawCapability raw) implements RegionCapability {
        @Override
        public String toString() {
            return "type " + type;
        }
    }

    /** {@code VFIO_REGION_INFO_CAP_MSIX_MAPPABLE}: the MSI-X table in this BAR may be mmapped with the rest. */
    record MsixMappable(RawCapability raw) implements RegionCapability {
        @Override
        public String toString() {
            return "msix-mappable";
        }
    }

    /** A capability kept raw: an unknown id, or a known id whose bytes are too short to decode. */
    record Unknown(RawCapability raw) implements RegionCapability {
        @Override
        public String toString() {
            return "unknown " + raw;
        }
    }

    /** Decodes one raw capability; never throws. */
    static RegionCapability decode(RawCapability raw) {
        ByteBuffer b = raw.buffer();
        switch (raw.id()) {
            case VFIO_REGION_INFO_CAP_SPARSE_MMAP: {
                if (raw.length() < SparseMmapCap.SIZE) {
                    return new Unknown(raw);
                }
                long n = Integer.toUnsignedLong(b.getInt(SparseMmapCap.NR_AREAS));
                long room = (raw.length() - SparseMmapCap.AREAS) / SparseMmapCap.AREA_SIZE;
                if (n > room) {
                    return new Unknown(raw);
                }
                List<SparseArea> areas = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    int at = SparseMmapCap.AREAS + i * SparseMmapCap.AREA_SIZE;
                    areas.add(new SparseArea(b.getLong(at + SparseMmapCap.AREA_OFFSET),
                            b.getLong(at + SparseMmapCap.AREA_LENGTH)));
                }
                return new SparseMmap(areas, raw);
            }
            case VFIO_REGION_INFO_CAP_TYPE:
                if (raw.length() < TypeCap.SIZE) {
                    return new Unknown(raw);
                }
                return new Type(new RegionType(b.getInt(TypeCap.TYPE), b.getInt(TypeCap.SUBTYPE)), raw);
            case VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
                return new MsixMappable(raw);
            default:
                return new Unknown(raw);
        }
    }
}
