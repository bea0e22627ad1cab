package org.vfio4j.core.irq;

import org.vfio4j.core.sys.EventFd;

/**
 * How interrupts reach the guest. Passthrough devices use it to turn VFIO's eventfd triggers into guest interrupts:
 * through an irqfd when the hypervisor has one (no userspace hop), otherwise through the VMM's event loop.
 */
public interface InterruptController {

    /** Delivers one MSI to the guest now. */
    void signalMsi(MsiMessage message);

    /** Allocates a GSI routed to {@code message}. */
    MsiRoute addMsiRoute(MsiMessage message);

    /** Drives a level-triggered line (INTx) by GSI. */
    void setIrqLine(int gsi, boolean level);

    /** True when {@link #irqFd} delivers without a userspace hop (KVM irqfd); false for the userspace fallback. */
    boolean hasKernelIrqFd();

    /**
     * Makes every signal of {@code trigger} raise the route's interrupt. For a level-triggered line, give a
     * {@code resample} eventfd: it is signalled when the guest acknowledges the interrupt (EOI), which is when VFIO
     * may unmask INTx. Pass {@code null} for edge-triggered (MSI) routes.
     */
    IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample);

    /** An allocated GSI whose target MSI message can be changed. Closing frees the GSI. */
    interface MsiRoute extends AutoCloseable {
        int gsi();

        MsiMessage message();

        /** Points the route at a new message (the guest reprogrammed the vector). */
        void update(MsiMessage message);

        @Override
        void close();
    }

    /** An active eventfd-to-GSI binding. Closing detaches the eventfd (the eventfd itself stays open). */
    interface IrqFdBinding extends AutoCloseable {
        int gsi();

        @Override
        void close();
    }
}
