package org.vfio4j.vfio.iommufd;

import java.util.List;
import org.vfio4j.vfio.iommu.IovaRange;

/**
 * What {@code IOMMU_IOAS_IOVA_RANGES} reports for an IOAS.
 *
 * @param ranges the IOVA ranges mappings may use, inclusive, in the kernel's order (ascending)
 * @param alignment the alignment every mapping's IOVA and length must have ({@code out_iova_alignment})
 */
public record IoasRanges(List<IovaRange> ranges, long alignment) {

    /** Copies the list. */
    public IoasRanges {
        ranges = List.copyOf(ranges);
    }
}
