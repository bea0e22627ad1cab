package org.vfio4j.pci.config;

/**
 * The guest's view of one PCI function's configuration space: what a configuration read or write through CF8/CFC
 * or ECAM reaches.
 *
 * <p>Offsets are bytes from the start of the function's configuration space; sizes are 1, 2 or 4 bytes; values are
 * little-endian and zero-extended. An access the hardware would not complete (an unsupported size, one that crosses
 * a dword boundary, or one past the end of the space) reads all-ones and its write is dropped. Implementations never
 * throw: they run on vCPU threads inside the exit loop.
 */
public interface ConfigAccess {

    /** Returns {@code size} bytes at {@code offset}, zero-extended; all-ones for an access hardware would reject. */
    long read(int offset, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code offset}; drops an access hardware would reject. */
    void write(int offset, int size, long value);

    /** The size of this configuration space in bytes: 256 (conventional PCI) or 4096 (PCI Express). */
    int length();

    /**
     * True when the spec lets an access of {@code size} bytes at {@code offset} complete in a space of
     * {@code length} bytes: size 1, 2 or 4, not crossing a dword boundary (the byte enables of one configuration
     * transaction cover one dword), inside the space.
     */
    static boolean isValidAccess(int length, int offset, int size) {
        return (size == 1 || size == 2 || size == 4)
                && offset >= 0
                && (offset & 3) + size <= 4
                && offset + size <= length;
    }

    /** All-ones for an access of {@code size} bytes (the read answer for nothing there), at most 64 bits. */
    static long allOnes(int size) {
        return size >= 8 || size <= 0 ? -1L : (1L << (size * 8)) - 1;
    }
}
