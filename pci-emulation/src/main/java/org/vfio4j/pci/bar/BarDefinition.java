package org.vfio4j.pci.bar;

/**
 * One BAR a function implements.
 *
 * @param index        register index 0..5 (type 0) or 0..1 (type 1); a 64-bit BAR also takes {@code index + 1}
 * @param type         I/O, 32-bit or 64-bit memory
 * @param size         power of two; I/O 4..256 bytes, memory at least 16 bytes (32-bit memory at most 2 GiB)
 * @param prefetchable memory that tolerates prefetching and merged writes (never for I/O)
 */
public record BarDefinition(int index, BarType type, long size, boolean prefetchable) {

    /** Validates the definition against the PCI spec's BAR rules. */
    public BarDefinition {
        if (index < 0 || index > 5 || (type == BarType.MEMORY64 && index > 4)) {
            throw new IllegalArgumentException("BAR index " + index + " invalid for " + type);
        }
        if (size <= 0 || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("BAR " + index + " size " + size + " is not a power of two");
        }
        switch (type) {
            case IO -> {
                if (size < 4 || size > 256) {
                    throw new IllegalArgumentException("I/O BAR " + index + " size " + size + " not in 4..256");
                }
                if (prefetchable) {
                    throw new IllegalArgumentException("I/O BAR " + index + " cannot be prefetchable");
                }
            }
            case MEMORY32 -> {
                if (size < 16 || size > (1L << 31)) {
                    throw new IllegalArgumentException("32-bit BAR " + index + " size " + size + " not in 16..2G");
                }
            }
            case MEMORY64 -> {
                if (size < 16 || size > (1L << 62)) {
                    throw new IllegalArgumentException("64-bit BAR " + index + " size " + size + " out of range");
                }
            }
        }
    }

    /** An I/O BAR. */
    public static BarDefinition io(int index, long size) {
        return new BarDefinition(index, BarType.IO, size, false);
    }

    /** A 32-bit non-prefetchable memory BAR. */
    public static BarDefinition memory32(int index, long size) {
        return new BarDefinition(index, BarType.MEMORY32, size, false);
    }

    /** A 64-bit memory BAR. */
    public static BarDefinition memory64(int index, long size, boolean prefetchable) {
        return new BarDefinition(index, BarType.MEMORY64, size, prefetchable);
    }

    /** The read-only low bits of the BAR register: space, type and prefetchable flags. */
    public int flags() {
        return switch (type) {
            case IO -> 0x1;
            case MEMORY32 -> prefetchable ? 0x8 : 0x0;
            case MEMORY64 -> 0x4 | (prefetchable ? 0x8 : 0x0);
        };
    }
}
