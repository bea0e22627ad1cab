package org.vfio4j.vfio.platform;

import org.vfio4j.vfio.irq.IrqInfo;

/**
 * One interrupt of a vfio-platform device: IRQ index {@code index} is the device's {@code index}-th interrupt, one
 * vector. A level-triggered line is MASKABLE and AUTOMASKED (the kernel masks it when it fires; it must be unmasked
 * after the guest has handled it); an edge-triggered one is neither.
 *
 * @param info the kernel's IRQ info
 */
public record PlatformIrq(IrqInfo info) {

    /** The IRQ index. */
    public int index() {
        return info.index();
    }

    /** Level or edge, from AUTOMASKED. */
    public Trigger trigger() {
        return info.automasked() ? Trigger.LEVEL : Trigger.EDGE;
    }

    @Override
    public String toString() {
        return "irq " + index() + ": " + trigger().name().toLowerCase() + " " + info;
    }
}
