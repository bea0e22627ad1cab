package org.vfio4j.vfio.igd;

import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Gives a guest what one kind of device-specific VFIO region holds. A handler claims one (type, subtype) pair in a
 * {@link DeviceRegionRegistry}; the registry calls it for the region of that type during attach.
 */
interface DeviceRegionHandler {

    /** A short name for logs and errors (e.g. "igd-opregion"). */
    String name();

    /** The (type, subtype) pair this handler claims. */
    RegionType claims();

    /**
     * Exposes {@code region} to the guest through {@code context}.
     *
     * @return what undoes it at detach
     * @throws RuntimeException to refuse the attach, saying why (device, region, what was wrong)
     */
    AutoCloseable install(QuirkContext context, VfioRegion region);
}
