package org.vfio4j.vfio.region;

/**
 * One mmap-able area of a region ({@code struct vfio_region_sparse_mmap_area}).
 *
 * @param offset offset of the area within the region
 * @param size size of the area in bytes
 */
public record SparseArea(long offset, long size) {
    @Override
    public String toString() {
        return String.format("[0x%x+0x%x]", offset, size);
    }
}
