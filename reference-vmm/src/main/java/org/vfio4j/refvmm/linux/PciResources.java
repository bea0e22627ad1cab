package org.vfio4j.refvmm.linux;

import java.util.List;
import org.vfio4j.pci.bus.PciHostBridge;

/** Placeholder until the firmware-like PCI assignment lands. */
final class PciResources {
    /** One assigned BAR. */
    public record Assignment(String function, int bar, long address, long size) {
    }

    static List<Assignment> assign(PciHostBridge bridge) {
        return List.of();
    }
}
