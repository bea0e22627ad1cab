package org.vfio4j.core.memory;

/**
 * A range of guest RAM: where the guest sees it ({@code guestAddress}), how large it is, and where it lives in this
 * process ({@code hostAddress}). Passthrough devices map each region into the IOMMU at IOVA = guest address.
 */
public record RamRegion(long guestAddress, long size, long hostAddress, String name) {
    public RamRegion {
        if (size <= 0) {
            throw new IllegalArgumentException("RAM region " + name + " has size " + size);
        }
    }

    /** The first guest address past the region. */
    public long guestEnd() {
        return guestAddress + size;
    }

    /** True when {@code [gpa, gpa + length)} lies inside this region. */
    public boolean contains(long gpa, long length) {
        return Long.compareUnsigned(gpa, guestAddress) >= 0
                && Long.compareUnsigned(gpa + length, guestEnd()) <= 0;
    }
}
