package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigSpace;

/**
 * An emulated standard capability (the list rooted at the capabilities pointer, offsets 0x40..0xFF) that a
 * {@link CapabilityList} can place in a config space.
 *
 * <p>Open for implementation: MSI ({@code org.vfio4j.pci.msi}), MSI-X ({@code org.vfio4j.pci.msix}) and the simple
 * ones in this package implement it, and so can a device model for a capability of its own.
 */
public interface Capability {

    /** The capability id (byte 0 of the capability), e.g. 0x05 for MSI. */
    int id();

    /** The size in bytes including the two-byte header (id, next pointer). */
    int length();

    /**
     * Writes the capability's registers (bytes 2 onward) and their masks into {@code cs} at {@code offset} and hooks
     * any write logic. The list writes the id and next pointer itself and makes them read-only.
     */
    void install(ConfigSpace cs, int offset);
}
