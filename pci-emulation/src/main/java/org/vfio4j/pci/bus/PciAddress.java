package org.vfio4j.pci.bus;

/**
 * A function's bus/device/function address.
 *
 * @param bus      0..255
 * @param device   0..31
 * @param function 0..7
 */
public record PciAddress(int bus, int device, int function) {

    /** Validates the field ranges. */
    public PciAddress {
        if (bus < 0 || bus > 255 || device < 0 || device > 31 || function < 0 || function > 7) {
            throw new IllegalArgumentException("bad PCI address " + bus + ":" + device + "." + function);
        }
    }

    /** Device and function packed as in Linux's devfn: {@code device << 3 | function}. */
    public int devfn() {
        return device << 3 | function;
    }

    /** Formats as {@code bb:dd.f}, the way lspci does. */
    @Override
    public String toString() {
        return String.format("%02x:%02x.%x", bus, device, function);
    }
}
