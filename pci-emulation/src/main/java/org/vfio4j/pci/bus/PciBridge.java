package org.vfio4j.pci.bus;

import static org.vfio4j.pci.config.PciRegisters.*;

import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/**
 * A PCI-to-PCI bridge: a type 1 header function with a secondary bus behind it. The host bridge forwards a
 * configuration access for bus N through this bridge when its secondary bus number is N (delivered on the
 * secondary bus) or N lies in (secondary, subordinate] (forwarded further down), using the bus number registers the
 * guest or firmware programmed, as a real bridge does.
 */
public final class PciBridge implements ConfigAccess {
    /** Class code of a PCI-to-PCI bridge (06/04/00). */
    public static final int CLASS_PCI_BRIDGE = 0x060400;

    private final ConfigSpace config;
    private final PciBars bars;
    private final PciBus secondary;

    /**
     * A bridge whose secondary bus is pre-numbered {@code secondaryBus} (primary {@code primaryBus}, subordinate
     * equal to secondary), as firmware would leave it; the guest may renumber it.
     */
    public PciBridge(String name, PciIdentity id, ConfigSpaceSize size, int primaryBus, int secondaryBus) {
        if (secondaryBus <= primaryBus || secondaryBus > 255) {
            throw new IllegalArgumentException("secondary bus " + secondaryBus + " must be above primary "
                    + primaryBus);
        }
        this.config = PciHeaders.type1(name, size, id, 0);
        config.setByte(PCI_PRIMARY_BUS, primaryBus);
        config.setByte(PCI_SECONDARY_BUS, secondaryBus);
        config.setByte(PCI_SUBORDINATE_BUS, secondaryBus);
        this.bars = new PciBars(config);
        this.secondary = new PciBus(secondaryBus);
    }

    /** The bridge's own config space (type 1 header). */
    public ConfigSpace config() {
        return config;
    }

    /** The bridge's two BARs and ROM BAR (none implemented unless the owner defines them). */
    public PciBars bars() {
        return bars;
    }

    /** The bus behind the bridge. */
    public PciBus secondary() {
        return secondary;
    }

    /** The secondary bus number register. */
    public int secondaryBusNumber() {
        return config.getByte(PCI_SECONDARY_BUS);
    }

    /** The subordinate bus number register. */
    public int subordinateBusNumber() {
        return config.getByte(PCI_SUBORDINATE_BUS);
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
}
