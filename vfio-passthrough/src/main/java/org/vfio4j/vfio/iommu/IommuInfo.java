package org.vfio4j.vfio.iommu;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IOMMU_INFO_PGSIZES;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@code VFIO_IOMMU_GET_INFO} says about a type1 container.
 *
 * @param flags {@code VFIO_IOMMU_INFO_*}
 * @param iovaPageSizes bitmap of supported IOMMU page sizes (valid with {@code VFIO_IOMMU_INFO_PGSIZES})
 * @param capabilities the decoded capability chain
 * @param chainProblems why the chain was cut short, if it was
 */
public record IommuInfo(int flags, long iovaPageSizes, List<IommuCapability> capabilities,
        List<String> chainProblems) {

    /** Copies the lists. */
    public IommuInfo {
        capabilities = List.copyOf(capabilities);
        chainProblems = List.copyOf(chainProblems);
    }

    /** The smallest supported IOMMU page size, or 4096 when the kernel didn't say. */
    public long minPageSize() {
        if ((flags & VFIO_IOMMU_INFO_PGSIZES) == 0 || iovaPageSizes == 0) {
            return 4096;
        }
        return Long.lowestOneBit(iovaPageSizes);
    }

    /** The valid IOVA ranges, when the kernel reports them (type1 since Linux 5.4). */
    public Optional<List<IovaRange>> iovaRanges() {
        for (IommuCapability c : capabilities) {
            if (c instanceof IommuCapability.IovaRanges r) {
                return Optional.of(r.ranges());
            }
        }
        return Optional.empty();
    }

    /** How many more DMA mappings may be created, when the kernel reports it. */
    public OptionalLong dmaAvailable() {
        for (IommuCapability c : capabilities) {
            if (c instanceof IommuCapability.DmaAvailable d) {
                return OptionalLong.of(d.available());
            }
        }
        return OptionalLong.empty();
    }

    /** The migration (dirty tracking) capability, when present. */
    public Optional<IommuCapability.Migration> migration() {
        for (IommuCapability c : capabilities) {
            if (c instanceof IommuCapability.Migration m) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
