package org.vfio4j.vfio.iommu;

/**
 * An inclusive range of IO virtual addresses, {@code [start, end]}, compared as unsigned 64-bit values (as in
 * {@code struct vfio_iova_range}).
 *
 * @param start first address
 * @param end last address (inclusive)
 */
public record IovaRange(long start, long end) {

    /** The x86 MSI window, which type1 always reports as a hole. */
    public static final IovaRange X86_MSI_WINDOW = new IovaRange(0xfee00000L, 0xfeefffffL);

    /** Rejects {@code end < start}. */
    public IovaRange {
        if (Long.compareUnsigned(end, start) < 0) {
            throw new IllegalArgumentException(String.format("IOVA range end 0x%x before start 0x%x", end, start));
        }
    }

    /** The range covering {@code size} bytes from {@code start}; {@code size} must be non-zero. */
    public static IovaRange ofSize(long start, long size) {
        return new IovaRange(start, start + size - 1);
    }

    /** True when {@code other} lies entirely inside this range. */
    public boolean contains(IovaRange other) {
        return Long.compareUnsigned(other.start, start) >= 0 && Long.compareUnsigned(other.end, end) <= 0;
    }

    /** True when the two ranges share at least one address. */
    public boolean overlaps(IovaRange other) {
        return Long.compareUnsigned(other.start, end) <= 0 && Long.compareUnsigned(start, other.end) <= 0;
    }

    @Override
    public String toString() {
        return String.format("0x%x-0x%x", start, end);
    }
}
