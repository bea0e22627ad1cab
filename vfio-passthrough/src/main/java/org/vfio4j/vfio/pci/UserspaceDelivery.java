package org.vfio4j.vfio.pci;

/**
 * How an interrupt of a passthrough function went through the VMM instead of straight from VFIO to KVM (an irqfd),
 * as counted in {@link VfioPciCounters#userspaceInterrupts()}.
 */
public enum UserspaceDelivery {
    /** An INTx the event loop pulsed, because the VMM's interrupt controller has no kernel irqfd. */
    INTX,
    /**
     * An MSI the VMM sent: a pending vector the guest unmasked, or a signal the event loop delivered because the
     * controller has no kernel irqfd.
     */
    MSI,
    /** A signal of a masked MSI vector: it set the vector's pending bit. */
    MSI_PENDING,
    /** An MSI-X message the VMM sent (as for {@link #MSI}). */
    MSIX,
    /** A signal of a masked MSI-X vector (or of a function-masked table): it set the vector's PBA bit. */
    MSIX_PENDING
}
