package org.vfio4j.vfio.pci;

import java.util.List;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.bus.PciAddress;
import org.vfio4j.pci.bus.PciBus;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.region.RegionInfo;

/** What a {@link DeviceQuirk} sees and may change while a device is being attached. */
public interface QuirkContext {

    /** The host function's name (its BDF). */
    String name();

    /** The VFIO device: every region (including vendor regions at index >= 9), IRQ info, config region access. */
    VfioDevice device();

    /** The info of every region the device reports, by index. */
    List<RegionInfo> regions();

    /**
     * The guest-visible config space. A quirk may fully emulate a register here: mark its bits emulated
     * ({@link ConfigSpace#setEmulated}), set the image and the writable mask, and add write hooks.
     */
    ConfigSpace config();

    /** The guest-visible capability chains (hide or add capabilities). */
    CapabilityList capabilities();

    /** The VMM: guest memory (e.g. to reserve and fill an OpRegion copy), trap buses, interrupts. */
    Vmm vmm();

    /** The guest PCI bus the device is being attached to (a quirk may attach companion functions to it). */
    PciBus bus();

    /** Where the device will appear on {@link #bus()}. */
    PciAddress address();

    /**
     * Keeps {@code [offset, offset + length)} of BAR {@code bar} trapped and sends guest accesses there to
     * {@code handler} (offsets relative to {@code offset}) instead of the device. The pages it touches are never
     * mmapped into the guest.
     */
    void trapBarRange(int bar, long offset, long length, TrapHandler handler);
}
