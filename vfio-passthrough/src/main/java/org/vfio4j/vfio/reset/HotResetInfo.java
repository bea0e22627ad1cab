package org.vfio4j.vfio.reset;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The answer of {@code VFIO_DEVICE_GET_PCI_HOT_RESET_INFO}: every device a bus/slot reset would also reset.
 *
 * @param flags the info flags (0 in this uAPI version)
 * @param devices the affected devices, the queried one included
 */
public record HotResetInfo(int flags, List<DependentDevice> devices) {

    /** Copies the list. */
    public HotResetInfo {
        devices = List.copyOf(devices);
    }

    /** The IOMMU groups of the affected devices, sorted. */
    public Set<Integer> groupIds() {
        Set<Integer> ids = new TreeSet<>();
        for (DependentDevice d : devices) {
            ids.add(d.groupId());
        }
        return ids;
    }
}
