package org.vfio4j.vfio.region;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

/**
 * A region's type and subtype from {@code VFIO_REGION_INFO_CAP_TYPE}. PCI vendor types carry
 * {@link org.vfio4j.vfio.uapi.VfioConstants#VFIO_REGION_TYPE_PCI_VENDOR_TYPE} plus the vendor id in the low 16 bits.
 *
 * @param type the raw type value
 * @param subtype the raw subtype value
 */
public record RegionType(int type, int subtype) {

    /** The Intel IGD OpRegion (vendor 0x8086, subtype 1). */
    public static final RegionType INTEL_IGD_OPREGION =
            pciVendor(PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION);
    /** The Intel IGD host bridge config space (vendor 0x8086, subtype 2). */
    public static final RegionType INTEL_IGD_HOST_CFG =
            pciVendor(PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG);
    /** The Intel IGD LPC bridge config space (vendor 0x8086, subtype 3). */
    public static final RegionType INTEL_IGD_LPC_CFG =
            pciVendor(PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG);

    /** The type for a PCI vendor's region. */
    public static RegionType pciVendor(int vendorId, int subtype) {
        return new RegionType(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | (vendorId & VFIO_REGION_TYPE_PCI_VENDOR_MASK),
                subtype);
    }

    /** True for a PCI vendor type. */
    public boolean isPciVendor() {
        return (type & VFIO_REGION_TYPE_PCI_VENDOR_TYPE) != 0;
    }

    /** The vendor id of a PCI vendor type, or -1. */
    public int vendorId() {
        return isPciVendor() ? type & VFIO_REGION_TYPE_PCI_VENDOR_MASK : -1;
    }

    /** A readable name such as {@code "Intel IGD OpRegion"}, or the numbers when unknown. */
    public String describe() {
        if (isPciVendor()) {
            int vendor = vendorId();
            if (vendor == PCI_VENDOR_ID_INTEL) {
                switch (subtype) {
                    case VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION: return "Intel IGD OpRegion";
                    case VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG: return "Intel IGD host bridge config";
                    case VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG: return "Intel IGD LPC bridge config";
                    default: break;
                }
            } else if (vendor == PCI_VENDOR_ID_NVIDIA && subtype == VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM) {
                return "NVIDIA NVLink2 RAM";
            } else if (vendor == PCI_VENDOR_ID_IBM && subtype == VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD) {
                return "IBM NVLink2 ATSD";
            }
            return String.format("PCI vendor 0x%04x subtype %d", vendor, subtype);
        }
        switch (type) {
            case VFIO_REGION_TYPE_GFX:
                return subtype == VFIO_REGION_SUBTYPE_GFX_EDID ? "GFX EDID" : "GFX subtype " + subtype;
            case VFIO_REGION_TYPE_CCW:
                switch (subtype) {
                    case VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD: return "CCW async command";
                    case VFIO_REGION_SUBTYPE_CCW_SCHIB: return "CCW SCHIB";
                    case VFIO_REGION_SUBTYPE_CCW_CRW: return "CCW CRW";
                    default: return "CCW subtype " + subtype;
                }
            case VFIO_REGION_TYPE_MIGRATION_DEPRECATED:
                return subtype == VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED
                        ? "migration (v1, deprecated)" : "migration subtype " + subtype;
            default:
                return String.format("type 0x%x subtype %d", type, subtype);
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
