package org.vfio4j.vfio.pci;

/** Which interrupt mechanism the guest enabled on the device; only one is active at a time. */
public enum InterruptMode {
    /** No interrupts enabled (INTx disabled in the command register, no MSI/MSI-X). */
    NONE,
    /** The legacy level-triggered pin. */
    INTX,
    /** MSI, one or more vectors. */
    MSI,
    /** MSI-X, each vector separately. */
    MSIX
}
