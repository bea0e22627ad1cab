package org.vfio4j.vfio.irq;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

/**
 * What {@code VFIO_DEVICE_GET_IRQ_INFO} says about one IRQ index.
 *
 * @param index the IRQ index
 * @param flags {@code VFIO_IRQ_INFO_*}
 * @param count how many vectors the index has (0 when the device doesn't implement it)
 */
public record IrqInfo(int index, int flags, int count) {

    /** INTX, MSI, MSIX, ERR, REQ for the vfio-pci indices, {@code "irq N"} otherwise. */
    public String name() {
        return PciIrqs.name(index);
    }

    /** The index can signal an eventfd. */
    public boolean eventfd() {
        return (flags & VFIO_IRQ_INFO_EVENTFD) != 0;
    }

    /** The index supports mask/unmask. */
    public boolean maskable() {
        return (flags & VFIO_IRQ_INFO_MASKABLE) != 0;
    }

    /** The kernel masks on delivery; the user must unmask (level-triggered INTx). */
    public boolean automasked() {
        return (flags & VFIO_IRQ_INFO_AUTOMASKED) != 0;
    }

    /** The vector count can't change while the index is enabled. */
    public boolean noResize() {
        return (flags & VFIO_IRQ_INFO_NORESIZE) != 0;
    }

    @Override
    public String toString() {
        return String.format("%s: count %d flags 0x%x%s%s%s%s", name(), count, flags, eventfd() ? " EVENTFD" : "",
                maskable() ? " MASKABLE" : "", automasked() ? " AUTOMASKED" : "", noResize() ? " NORESIZE" : "");
    }
}
