package org.vfio4j.vfio.platform;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the host firmware says about a platform device: where it is described, its {@code compatible} strings, its
 * memory resources and interrupts in vfio-platform's order, and its other properties (device tree only) that a
 * guest description may carry over.
 *
 * @param source where it is described: {@code device tree /soc/uart@9000000} or {@code ACPI \_SB_.VR21 (LNRO0005)}
 * @param compatible the {@code compatible} strings (for ACPI: the _HID)
 * @param regions the memory/I/O resources, in region order
 * @param irqs the interrupts, in IRQ index order
 * @param properties the node's properties that do not name host resources (no reg, interrupts, phandles)
 */
public record FirmwareDevice(String source, List<String> compatible, List<FirmwareRegion> regions,
        List<FirmwareIrq> irqs, Map<String, byte[]> properties) {

    /** Copies the lists and the map. */
    public FirmwareDevice {
        compatible = List.copyOf(compatible);
        regions = List.copyOf(regions);
        irqs = List.copyOf(irqs);
        properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    }

    @Override
    public String toString() {
        return source + " " + compatible + " " + regions + " " + irqs;
    }
}
