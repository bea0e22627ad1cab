package org.vfio4j.vfio.region;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

/** Names of the fixed vfio-pci region indices. */
public final class PciRegions {
    private PciRegions() {
    }

    /** BAR0..BAR5, ROM, CONFIG, VGA for the fixed indices, {@code "region N"} for device-specific ones. */
    public static String name(int index) {
        if (index >= VFIO_PCI_BAR0_REGION_INDEX && index <= VFIO_PCI_BAR5_REGION_INDEX) {
            return "BAR" + index;
        }
        switch (index) {
            case VFIO_PCI_ROM_REGION_INDEX: return "ROM";
            case VFIO_PCI_CONFIG_REGION_INDEX: return "CONFIG";
            case VFIO_PCI_VGA_REGION_INDEX: return "VGA";
            default: return "region " + index;
        }
    }
}
