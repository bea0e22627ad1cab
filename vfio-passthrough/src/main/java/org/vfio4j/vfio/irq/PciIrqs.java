package org.vfio4j.vfio.irq;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

/** Names of the vfio-pci IRQ indices. */
public final class PciIrqs {
    private PciIrqs() {
    }

    /** INTX, MSI, MSIX, ERR, REQ, or {@code "irq N"}. */
    public static String name(int index) {
        switch (index) {
            case VFIO_PCI_INTX_IRQ_INDEX: return "INTX";
            case VFIO_PCI_MSI_IRQ_INDEX: return "MSI";
            case VFIO_PCI_MSIX_IRQ_INDEX: return "MSIX";
            case VFIO_PCI_ERR_IRQ_INDEX: return "ERR";
            case VFIO_PCI_REQ_IRQ_INDEX: return "REQ";
            default: return "irq " + index;
        }
    }
}
