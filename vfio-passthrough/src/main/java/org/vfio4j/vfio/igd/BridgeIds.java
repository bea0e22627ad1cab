package org.vfio4j.vfio.igd;

import static org.vfio4j.pci.config.PciRegisters.*;

import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * The identifying registers of a host bridge or LPC bridge, read from the read-only config region vfio-pci exposes
 * for it (the bridge's config space, {@code cfg_size} bytes), register by register at their own sizes.
 */
final class BridgeIds {
    private BridgeIds() {
    }

    /** Vendor, device, class, revision and subsystem ids of the bridge behind {@code region}. */
    static PciIdentity read(VfioRegion region, String what) {
        if (region.size() < PCI_SUBSYSTEM_ID + 2) {
            throw new VfioException(String.format("%s: config region is 0x%x bytes, too short for a PCI header",
                    what, region.size()));
        }
        int vendor = (int) region.read(PCI_VENDOR_ID, 2);
        int device = (int) region.read(PCI_DEVICE_ID, 2);
        if (vendor == 0xFFFF || vendor == 0) {
            throw new VfioException(String.format("%s: vendor id reads 0x%04x; the bridge is not there", what,
                    vendor));
        }
        int classRev = (int) region.read(PCI_CLASS_REVISION, 4);
        return new PciIdentity(vendor, device, classRev >>> 8, classRev & 0xFF,
                (int) region.read(PCI_SUBSYSTEM_VENDOR_ID, 2), (int) region.read(PCI_SUBSYSTEM_ID, 2));
    }

    /** Image bytes of the registers {@link #apply} writes, to put back later. */
    static byte[] save(ConfigSpace cs) {
        byte[] b = new byte[9];
        int[] v = {cs.getWord(PCI_VENDOR_ID), cs.getWord(PCI_DEVICE_ID), cs.getByte(PCI_REVISION_ID),
            cs.getWord(PCI_SUBSYSTEM_VENDOR_ID), cs.getWord(PCI_SUBSYSTEM_ID)};
        b[0] = (byte) v[0];
        b[1] = (byte) (v[0] >>> 8);
        b[2] = (byte) v[1];
        b[3] = (byte) (v[1] >>> 8);
        b[4] = (byte) v[2];
        b[5] = (byte) v[3];
        b[6] = (byte) (v[3] >>> 8);
        b[7] = (byte) v[4];
        b[8] = (byte) (v[4] >>> 8);
        return b;
    }

    /** Writes vendor, device, revision and subsystem ids of {@code id} into the image of {@code cs}. */
    static void apply(ConfigSpace cs, PciIdentity id) {
        cs.setWord(PCI_VENDOR_ID, id.vendorId());
        cs.setWord(PCI_DEVICE_ID, id.deviceId());
        cs.setByte(PCI_REVISION_ID, id.revision());
        cs.setWord(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId());
        cs.setWord(PCI_SUBSYSTEM_ID, id.subsystemId());
    }

    /** Puts back what {@link #save} took. */
    static void restore(ConfigSpace cs, byte[] b) {
        cs.setWord(PCI_VENDOR_ID, (b[0] & 0xFF) | (b[1] & 0xFF) << 8);
        cs.setWord(PCI_DEVICE_ID, (b[2] & 0xFF) | (b[3] & 0xFF) << 8);
        cs.setByte(PCI_REVISION_ID, b[4] & 0xFF);
        cs.setWord(PCI_SUBSYSTEM_VENDOR_ID, (b[5] & 0xFF) | (b[6] & 0xFF) << 8);
        cs.setWord(PCI_SUBSYSTEM_ID, (b[7] & 0xFF) | (b[8] & 0xFF) << 8);
    }
}
