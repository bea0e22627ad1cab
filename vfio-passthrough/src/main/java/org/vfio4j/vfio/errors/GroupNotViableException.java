package org.vfio4j.vfio.errors;

import java.util.List;

/**
 * An IOMMU group is not viable: some device in it is still bound to a host driver, so the kernel won't let user space
 * own the group. The message names each such device and its driver.
 */
public class GroupNotViableException extends VfioException {
    private static final long serialVersionUID = 1L;

    /** Carried for callers that react to the refusal programmatically. */
    private final int groupId;
    /** Carried for callers that react to the refusal programmatically. */
    private final List<String> offenders;

    /**
     * @param groupId the IOMMU group number
     * @param offenders one entry per device not bound to vfio-pci, e.g. {@code "0000:00:1f.3 (bound to snd_hda_intel)"}
     */
    public GroupNotViableException(int groupId, List<String> offenders) {
        super("VFIO group " + groupId + " is not viable: "
                + (offenders.isEmpty()
                        ? "the kernel says so, but every device in /sys/kernel/iommu_groups/" + groupId
                                + "/devices is bound to vfio-pci"
                        : "not bound to vfio-pci: " + String.join(", ", offenders)
                                + "; unbind them from their driver and bind them to vfio-pci"));
        this.groupId = groupId;
        this.offenders = List.copyOf(offenders);
    }

    /** The IOMMU group number. */
    public int groupId() {
        return groupId;
    }

    /** The devices in the group that are not bound to vfio-pci, with their drivers. */
    public List<String> offenders() {
        return offenders;
    }
}
