package org.vfio4j.vfio.igd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.pci.bus.PciBus;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Copies the host bridge's vendor, device, revision and subsystem ids (region subtype 2) into the VMM's emulated
 * host bridge at 00:00.0, where guest IGD drivers and the video BIOS look for them. The class code stays the VMM's
 * (it is a host bridge either way). QEMU copies only revision and subsystem ids; the device id is copied here too
 * because the guest driver identifies the memory controller by it. Undone at detach.
 */
final class HostBridgeHandler implements DeviceRegionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(HostBridgeHandler.class);

    /** A handler for the host bridge config region. */
    public HostBridgeHandler() {
    }

    @Override
    public String name() {
        return "igd-host-bridge";
    }

    @Override
    public RegionType claims() {
        return RegionType.INTEL_IGD_HOST_CFG;
    }

    @Override
    public AutoCloseable install(QuirkContext context, VfioRegion region) {
        String what = context.name() + " host bridge config (region " + region.info().index() + ")";
        PciBus bus = context.bus();
        if (bus.number() != 0) {
            throw new VfioException(String.format("%s: the IGD is being attached to bus %d; it must be on the root "
                    + "bus to give 00:00.0 the host bridge's ids", what, bus.number()));
        }
        ConfigAccess f = bus.function(0, 0);
        if (f == null) {
            throw new VfioException(what + ": the guest has no host bridge function at 00:00.0 to take the host "
                    + "bridge's ids");
        }
        if (!(f instanceof ConfigSpace cs)) {
            throw new VfioException(what + ": 00:00.0 is a " + f.getClass().getSimpleName()
                    + ", not an emulated config space whose ids can be set");
        }
        PciIdentity id = BridgeIds.read(region, what);
        byte[] saved = BridgeIds.save(cs);
        BridgeIds.apply(cs, id);
        LOG.info("{}: 00:00.0 now {}", context.name(), String.format("%04x:%04x rev %02x subsystem %04x:%04x",
                id.vendorId(), id.deviceId(), id.revision(), id.subsystemVendorId(), id.subsystemId()));
        return () -> BridgeIds.restore(cs, saved);
    }
}
