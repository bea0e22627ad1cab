package org.vfio4j.vfio.platform;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a guest needs to find a passed-through platform device: the guest address and size of each region, the
 * guest interrupt and trigger of each IRQ, the {@code compatible} strings and the host node's other properties. An
 * arm VMM writes it as a device-tree node ({@link FdtWriter}); an x86 VMM builds an ACPI device from the same record.
 *
 * @param name the host device name
 * @param source where the host firmware describes it (empty when it was not correlated)
 * @param compatible the compatible strings (ACPI: the _HID)
 * @param regions the regions, in index order (I/O-port regions are left out: vfio-platform can't access them)
 * @param irqs the interrupts, in index order
 * @param properties the host node's properties that don't name host resources
 */
public record PlatformGuestDescription(String name, String source, List<String> compatible,
        List<GuestRegion> regions, List<GuestIrq> irqs, Map<String, byte[]> properties) {

    /** Copies the lists and the map. */
    public PlatformGuestDescription {
        compatible = List.copyOf(compatible);
        regions = List.copyOf(regions);
        irqs = List.copyOf(irqs);
        properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    @Override
    public String toString() {
        return name + " " + compatible + " " + regions + " " + irqs;
    }
}
