package org.vfio4j.core.memory;

/**
 * One entry of the memory map a VMM hands its guest.
 *
 * @param address first guest-physical address
 * @param size length in bytes
 * @param type the range's type
 */
public record E820Entry(long address, long size, E820Type type) {

    /** The first address past the entry. */
    public long end() {
        return address + size;
    }

    @Override
    public String toString() {
        return String.format("[0x%x-0x%x) %s", address, end(), type);
    }
}
