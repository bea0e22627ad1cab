package org.vfio4j.refvmm.linux.pci;

import java.util.List;
import org.vfio4j.pci.bus.PciAddress;

/**
 * What {@link PciResourceAssigner} set up for one function.
 *
 * @param address       bus:device.function
 * @param vendorId      vendor ID read from config space
 * @param deviceId      device ID
 * @param classCode     24-bit class code (base class, subclass, programming interface)
 * @param command       the command register as written
 * @param interruptPin  the interrupt pin register: 0 none, 1..4 INTA..INTD
 * @param gsi           the GSI written to the interrupt line register, or -1 when the function has no pin
 * @param bars          its BARs in register order, the ROM last
 */
public record AssignedFunction(PciAddress address, int vendorId, int deviceId, int classCode, int command,
                               int interruptPin, int gsi, List<BarAssignment> bars) {
    /** Copies the BAR list. */
    public AssignedFunction {
        bars = List.copyOf(bars);
    }

    /** One line for a log: address, ids, class, command, interrupt, then the BARs. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format("%s %04x:%04x class %06x command 0x%04x", address,
                vendorId, deviceId, classCode, command));
        if (interruptPin >= 1 && interruptPin <= 4) {
            s.append(String.format(" INT%c -> GSI %d", (char) ('A' + interruptPin - 1), gsi));
        }
        for (BarAssignment b : bars) {
            s.append(", ").append(b);
        }
        return s.toString();
    }
}
