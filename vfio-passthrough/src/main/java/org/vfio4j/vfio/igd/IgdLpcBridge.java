package org.vfio4j.vfio.igd;

import static org.vfio4j.pci.config.PciRegisters.*;

import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/**
 * An emulated ISA/LPC bridge (class 06/01/00, a conventional type 0 function without BARs or interrupts) that
 * carries the host LPC bridge's ids. Guest IGD drivers find the platform controller hub by looking for an Intel ISA
 * bridge and reading its device id; the video BIOS checks it too. It must sit at 00:1f.0, where the PCH puts it.
 */
final class IgdLpcBridge implements ConfigAccess {
    /** Class code of an ISA bridge. */
    public static final int CLASS_ISA_BRIDGE = 0x060100;
    /** The device slot the LPC bridge occupies. */
    public static final int SLOT = 0x1f;

    private final ConfigSpace config;

    /** A bridge with {@code id}'s vendor, device, revision and subsystem ids (its class is always ISA bridge). */
    public IgdLpcBridge(PciIdentity id) {
        this.config = PciHeaders.type0("igd-lpc-bridge", ConfigSpaceSize.CONVENTIONAL,
                new PciIdentity(id.vendorId(), id.deviceId(), CLASS_ISA_BRIDGE, id.revision(),
                        id.subsystemVendorId(), id.subsystemId()), 0);
    }

    /** The bridge's config space. */
    public ConfigSpace config() {
        return config;
    }

    /** The ids it carries now. */
    public PciIdentity identity() {
        return new PciIdentity(config.getWord(PCI_VENDOR_ID), config.getWord(PCI_DEVICE_ID), CLASS_ISA_BRIDGE,
                config.getByte(PCI_REVISION_ID), config.getWord(PCI_SUBSYSTEM_VENDOR_ID),
                config.getWord(PCI_SUBSYSTEM_ID));
    }

    /** Replaces the ids (vendor, device, revision, subsystem vendor and id); the class stays ISA bridge. */
    public void setIdentity(PciIdentity id) {
        config.setWord(PCI_VENDOR_ID, id.vendorId());
        config.setWord(PCI_DEVICE_ID, id.deviceId());
        config.setByte(PCI_REVISION_ID, id.revision());
        config.setWord(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId());
        config.setWord(PCI_SUBSYSTEM_ID, id.subsystemId());
    }

    @Override
    public long read(int offset, int size) {
        return config.read(offset, size);
    }

    @Override
    public void write(int offset, int size, long value) {
        config.write(offset, size, value);
    }

    @Override
    public int length() {
        return config.length();
    }

    @Override
    public String toString() {
        PciIdentity id = identity();
        return String.format("IgdLpcBridge[%04x:%04x rev %02x]", id.vendorId(), id.deviceId(), id.revision());
    }
}
