package org.vfio4j.vfio.iommu;

/**
 * One live DMA mapping: device accesses to {@code [iova, iova + size)} reach host memory at {@code hostAddress}.
 *
 * @param iova first IO virtual address
 * @param size length in bytes
 * @param hostAddress process virtual address of the first byte
 * @param readable the device may read
 * @param writable the device may write
 */
public record DmaMapping(long iova, long size, long hostAddress, boolean readable, boolean writable) {

    /** The IOVA range covered. */
    public IovaRange range() {
        return IovaRange.ofSize(iova, size);
    }

    @Override
    public String toString() {
        return String.format("iova 0x%x size 0x%x -> host 0x%x %s%s", iova, size, hostAddress, readable ? "R" : "",
                writable ? "W" : "");
    }
}
