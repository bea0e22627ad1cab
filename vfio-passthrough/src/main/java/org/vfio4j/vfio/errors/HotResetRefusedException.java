package org.vfio4j.vfio.errors;

import java.util.Set;

/**
 * A PCI hot reset was refused before the ioctl because the caller doesn't own every IOMMU group the reset affects
 * (the kernel requires an fd for each).
 */
public class HotResetRefusedException extends VfioException {
    private static final long serialVersionUID = 1L;

    /** Carried for callers that react to the refusal programmatically. */
    private final Set<Integer> missingGroups;

    /** With the message and the group ids the caller would have to open first. */
    public HotResetRefusedException(String message, Set<Integer> missingGroups) {
        super(message);
        this.missingGroups = Set.copyOf(missingGroups);
    }

    /** The group ids the caller would have to own. */
    public Set<Integer> missingGroups() {
        return missingGroups;
    }
}
