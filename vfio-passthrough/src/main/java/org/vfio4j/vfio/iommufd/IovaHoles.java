package org.vfio4j.vfio.iommufd;

import java.util.ArrayList;
import java.util.List;
import org.vfio4j.vfio.iommu.IovaRange;

/** The complement of a set of allowed IOVA ranges over the 64-bit space. */
final class IovaHoles {
    private IovaHoles() {
    }

    /** The gaps before, between and after {@code ranges} (unsigned order); empty when {@code ranges} is empty. */
    static List<IovaRange> between(List<IovaRange> ranges) {
        if (ranges.isEmpty()) {
            return List.of();
        }
        List<IovaRange> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        List<IovaRange> holes = new ArrayList<>();
        long next = 0; // first address not yet covered
        for (IovaRange r : sorted) {
            if (Long.compareUnsigned(r.start(), next) > 0) {
                holes.add(new IovaRange(next, r.start() - 1));
            }
            if (Long.compareUnsigned(r.end(), next) >= 0) {
                if (r.end() == -1L) {
                    return holes;
                }
                next = r.end() + 1;
            }
        }
        holes.add(new IovaRange(next, -1L));
        return holes;
    }
}
