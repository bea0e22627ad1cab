package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigSpace;

/** An emulated PCI Express extended capability (offsets 0x100..0xFFF) that a {@link CapabilityList} can place. */
public interface ExtendedCapability {

    /** The 16-bit extended capability id. */
    int id();

    /** The 4-bit capability version. */
    int version();

    /** The size in bytes including the four-byte header; a multiple of 4. */
    int length();

    /**
     * Writes the registers after the header (bytes 4 onward) and their masks into {@code cs} at {@code offset}. The
     * list writes the header itself and makes it read-only.
     */
    void install(ConfigSpace cs, int offset);
}
