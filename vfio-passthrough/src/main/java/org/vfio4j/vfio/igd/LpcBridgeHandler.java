package org.vfio4j.vfio.igd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.pci.bus.PciBus;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Puts the host LPC bridge's ids (region subtype 3) on an emulated ISA/LPC bridge at 00:1f.0: creates an
 * {@link IgdLpcBridge} there when the slot is empty (removed again at detach), reuses one that is already there,
 * and refuses the attach when something else holds 00:1f.0 (a VMM's own LPC/ISA bridge cannot be given foreign
 * ids safely).
 */
final class LpcBridgeHandler implements DeviceRegionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(LpcBridgeHandler.class);

    /** A handler for the LPC bridge config region. */
    public LpcBridgeHandler() {
    }

    @Override
    public String name() {
        return "igd-lpc-bridge";
    }

    @Override
    public RegionType claims() {
        return RegionType.INTEL_IGD_LPC_CFG;
    }

    @Override
    public AutoCloseable install(QuirkContext context, VfioRegion region) {
        String what = context.name() + " LPC bridge config (region " + region.info().index() + ")";
        PciBus bus = context.bus();
        if (bus.number() != 0) {
            throw new VfioException(String.format("%s: the IGD is being attached to bus %d; it must be on the root "
                    + "bus to get an LPC bridge at 00:1f.0", what, bus.number()));
        }
        PciIdentity id = BridgeIds.read(region, what);
        ConfigAccess existing = bus.function(IgdLpcBridge.SLOT, 0);
        if (existing instanceof IgdLpcBridge lpc) {
            PciIdentity before = lpc.identity();
            lpc.setIdentity(id);
            LOG.info("{}: existing IGD LPC bridge at 00:1f.0 now {}", context.name(), lpc);
            return () -> lpc.setIdentity(before);
        }
        if (existing != null) {
            throw new VfioException(String.format("%s: guest slot 00:1f.0 is taken by %s; IGD assignment needs an "
                    + "ISA/LPC bridge there that carries the host LPC bridge's ids (%04x:%04x). Leave 00:1f.0 free "
                    + "or put an IgdLpcBridge there", what, existing, id.vendorId(), id.deviceId()));
        }
        IgdLpcBridge lpc = new IgdLpcBridge(id);
        bus.attach(IgdLpcBridge.SLOT, 0, lpc);
        LOG.info("{}: created {} at 00:1f.0", context.name(), lpc);
        return () -> {
            if (bus.function(IgdLpcBridge.SLOT, 0) == lpc) {
                bus.detach(IgdLpcBridge.SLOT, 0);
            }
        };
    }
}
