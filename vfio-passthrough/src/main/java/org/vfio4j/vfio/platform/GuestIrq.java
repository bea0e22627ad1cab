package org.vfio4j.vfio.platform;

/**
 * Which guest interrupt a platform device's interrupt raises.
 *
 * @param index the device's IRQ index
 * @param guestIrq the guest interrupt number the VMM chose (a GSI on x86, a GIC INTID on arm)
 * @param trigger level (raised through an irqfd with resample) or edge
 */
public record GuestIrq(int index, int guestIrq, Trigger trigger) {
    @Override
    public String toString() {
        return "irq " + index + " -> guest " + guestIrq + " " + trigger.name().toLowerCase();
    }
}
