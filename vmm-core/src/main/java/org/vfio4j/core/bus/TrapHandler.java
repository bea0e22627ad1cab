package org.vfio4j.core.bus;

/**
 * Emulates a guest-physical MMIO range or a port-I/O range whose accesses trap to the VMM.
 *
 * <p>Offsets are relative to the start of the range the handler was registered for. Sizes are 1, 2, 4 or 8 bytes.
 * Values are little-endian and zero-extended into the {@code long}. A handler answers a bad access the way hardware
 * does (all-ones on read, the write dropped) and never throws: it runs on a vCPU thread, inside the exit loop.
 */
public interface TrapHandler {

    /** Returns {@code size} bytes at {@code offset}, zero-extended. */
    long read(long offset, int size);

    /** Writes the low {@code size} bytes of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);

    /** All-ones for an access of {@code size} bytes: what a read from nowhere returns. */
    static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }
}
