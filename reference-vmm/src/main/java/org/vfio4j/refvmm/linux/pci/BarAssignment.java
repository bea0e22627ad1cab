package org.vfio4j.refvmm.linux.pci;

/**
 * One BAR as sized and placed.
 *
 * @param index        BAR register index 0..5, or {@link #ROM_INDEX} for the expansion ROM
 * @param kind         what it decodes
 * @param prefetchable the prefetchable bit of a memory BAR
 * @param size         its size in bytes (a power of two)
 * @param address      the address written to it
 */
public record BarAssignment(int index, BarKind kind, boolean prefetchable, long size, long address) {
    /** The index used for the expansion ROM. */
    public static final int ROM_INDEX = 6;

    /** Formats as e.g. {@code BAR2 mem64 pref 0x4000000000 size 0x100000} or {@code ROM 0xc0000000 size 0x10000}. */
    @Override
    public String toString() {
        String name = kind == BarKind.ROM ? "ROM (disabled)" : "BAR" + index + " " + kind.label();
        return String.format("%s%s 0x%x size 0x%x", name, prefetchable ? " pref" : "", address, size);
    }
}
