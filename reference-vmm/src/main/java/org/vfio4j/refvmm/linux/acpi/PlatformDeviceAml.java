package org.vfio4j.refvmm.linux.acpi;

import org.vfio4j.vfio.platform.GuestIrq;
import org.vfio4j.vfio.platform.GuestRegion;
import org.vfio4j.vfio.platform.PlatformGuestDescription;
import org.vfio4j.vfio.platform.Trigger;

/**
 * A passed-through platform device as an x86 guest finds it: an ACPI {@code Device} with {@code _HID},
 * {@code _UID} and a static {@code _CRS} built from the same {@link PlatformGuestDescription} an arm VMM writes as a
 * device-tree node: a {@code Memory32Fixed} per region at its guest address, an {@code Interrupt} per IRQ on its
 * guest GSI with its trigger (active high).
 */
public final class PlatformDeviceAml {
    private PlatformDeviceAml() {
    }

    /**
     * The {@code Device(path)} term, to be placed in a scope of the DSDT (e.g. {@code \_SB_}).
     *
     * @param hid the ACPI or PNP id the guest's driver matches (for virtio-mmio: {@code LNRO0005})
     * @throws IllegalArgumentException for a region above 4 GiB (Memory32Fixed)
     */
    public static byte[] device(String path, String hid, int uid, PlatformGuestDescription d) {
        ResourceTemplate crs = new ResourceTemplate();
        for (GuestRegion r : d.regions()) {
            crs.memory32Fixed(r.guestAddress(), r.size(), !r.readOnly());
        }
        for (GuestIrq q : d.irqs()) {
            crs.interrupt(q.guestIrq(), q.trigger() == Trigger.LEVEL, false);
        }
        return Aml.device(path, Aml.name("_HID", Aml.string(hid)), Aml.name("_UID", Aml.integer(uid)),
                Aml.name("_CRS", crs.toAml()));
    }
}
