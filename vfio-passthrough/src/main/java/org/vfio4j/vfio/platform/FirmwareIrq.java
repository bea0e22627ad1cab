package org.vfio4j.vfio.platform;

/**
 * One interrupt of a device as its firmware describes it, in the order vfio-platform numbers its IRQ indexes.
 *
 * @param index the IRQ index it corresponds to
 * @param number the interrupt number at its controller (a GIC INTID, an ACPI GSI, or the first specifier cell)
 * @param trigger edge or level, when the firmware says
 * @param controller the interrupt controller: a node path, or "GSI" for ACPI
 * @param specifier the firmware's words for it (the specifier cells, or the ACPI descriptor), for messages
 */
public record FirmwareIrq(int index, long number, Trigger trigger, String controller, String specifier) {
    @Override
    public String toString() {
        return "irq " + index + ": " + number + " " + trigger.name().toLowerCase() + " at " + controller + " ("
                + specifier + ")";
    }
}
