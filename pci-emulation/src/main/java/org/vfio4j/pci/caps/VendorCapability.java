package org.vfio4j.pci.caps;

import static org.vfio4j.pci.config.PciRegisters.PCI_CAP_ID_VNDR;

import org.vfio4j.pci.config.ConfigSpace;

/**
 * A vendor-specific capability (id 0x09): byte 2 holds the capability's total length, the rest is vendor data,
 * read-only to the guest.
 */
public final class VendorCapability implements Capability {
    private final byte[] data;

    /** {@code data} are the bytes after the length byte; at most 253 of them (the length is one byte). */
    public VendorCapability(byte[] data) {
        if (data.length > 0xFF - 3) {
            throw new IllegalArgumentException("vendor capability data too long: " + data.length);
        }
        this.data = data.clone();
    }

    @Override
    public int id() {
        return PCI_CAP_ID_VNDR;
    }

    @Override
    public int length() {
        return 3 + data.length;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        cs.setByte(offset + 2, length());
        cs.setBytes(offset + 3, data);
    }
}
