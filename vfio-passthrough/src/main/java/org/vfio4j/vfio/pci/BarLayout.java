package org.vfio4j.vfio.pci;

import java.util.List;

/**
 * How one BAR (or the ROM) reaches the device now: which ranges are mapped into the guest and which trap to the
 * VMM, and how many accesses trapped so far.
 *
 * @param index BAR index 0..5, or 6 for the expansion ROM
 * @param io true for an I/O BAR
 * @param size BAR size in bytes
 * @param guestAddress the guest address it decodes at (0 when unassigned)
 * @param decoding true when the guest enabled decode and assigned an address
 * @param mapped ranges mmapped into the guest (offsets within the BAR)
 * @param trapped ranges whose accesses trap (offsets within the BAR)
 * @param trappedReads reads that trapped since attach
 * @param trappedWrites writes that trapped since attach
 */
public record BarLayout(int index, boolean io, long size, long guestAddress, boolean decoding, List<Range> mapped,
        List<Range> trapped, long trappedReads, long trappedWrites) {

    /** Copies the lists. */
    public BarLayout {
        mapped = List.copyOf(mapped);
        trapped = List.copyOf(trapped);
    }

    /**
     * A range within a BAR.
     *
     * @param offset offset within the BAR
     * @param length bytes
     * @param why what it is or why it is trapped (e.g. "sparse area 0", "MSI-X table", "no mmap", "sub-page")
     */
    public record Range(long offset, long length, String why) {
        @Override
        public String toString() {
            return String.format("[0x%x+0x%x %s]", offset, length, why);
        }
    }

    /** Bytes mapped in all. */
    public long mappedBytes() {
        return mapped.stream().mapToLong(Range::length).sum();
    }

    /** Bytes trapped in all. */
    public long trappedBytes() {
        return trapped.stream().mapToLong(Range::length).sum();
    }
}
