package org.vfio4j.core.irq;

/** An MSI message as the device writes it: the address (64-bit) and the 32-bit data. */
public record MsiMessage(long address, int data) {
    @Override
    public String toString() {
        return String.format("MSI[addr=0x%x data=0x%x]", address, data);
    }
}
