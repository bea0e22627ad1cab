package org.vfio4j.refvmm.linux.pci;

/**
 * An address range BARs are placed in.
 *
 * @param base first address
 * @param size bytes, positive
 */
public record PciWindow(long base, long size) {
    /** Validates the range (non-negative base, positive size, no wrap-around). */
    public PciWindow {
        if (base < 0 || size <= 0 || base + size < base) {
            throw new IllegalArgumentException("bad window base 0x" + Long.toHexString(base) + " size 0x"
                    + Long.toHexString(size));
        }
    }

    /** A window from {@code first} to {@code last}, both inclusive. */
    public static PciWindow ofRange(long first, long last) {
        return new PciWindow(first, last - first + 1);
    }

    /** The last address inside the window. */
    public long last() {
        return base + size - 1;
    }

    /** True when {@code size} bytes at {@code address} lie inside the window. */
    public boolean contains(long address, long size) {
        return address >= base && size >= 0 && address + size - 1 <= last();
    }

    @Override
    public String toString() {
        return String.format("[0x%x-0x%x]", base, last());
    }
}
