package org.vfio4j.vfio.errors;

/**
 * A DMA mapping was rejected before the ioctl: it overlaps a reserved IOVA hole (such as the x86 MSI window
 * 0xfee00000-0xfeefffff), lies outside the IOMMU's IOVA ranges, is misaligned, or overlaps a live mapping.
 */
public class DmaRangeException extends VfioException {
    private static final long serialVersionUID = 1L;

    /** With a message naming the container, the requested range and what it collides with. */
    public DmaRangeException(String message) {
        super(message);
    }
}
