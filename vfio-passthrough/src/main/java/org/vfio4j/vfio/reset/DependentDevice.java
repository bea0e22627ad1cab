package org.vfio4j.vfio.reset;

/**
 * A device affected by a PCI hot reset ({@code struct vfio_pci_dependent_device}).
 *
 * @param groupId its IOMMU group
 * @param segment PCI segment (domain)
 * @param bus PCI bus
 * @param devfn slot and function ({@code slot << 3 | function})
 */
public record DependentDevice(int groupId, int segment, int bus, int devfn) {

    /** The PCI slot. */
    public int slot() {
        return devfn >>> 3;
    }

    /** The PCI function. */
    public int function() {
        return devfn & 7;
    }

    /** The address as {@code DDDD:BB:SS.F}. */
    public String bdf() {
        return String.format("%04x:%02x:%02x.%d", segment, bus, slot(), function());
    }

    @Override
    public String toString() {
        return bdf() + " (group " + groupId + ")";
    }
}
