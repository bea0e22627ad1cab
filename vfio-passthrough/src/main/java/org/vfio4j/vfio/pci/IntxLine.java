package org.vfio4j.vfio.pci;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_INTX_IRQ_INDEX;

import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.event.LoopInterruptController;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.VfioDevice;

/**
 * A passthrough function's legacy interrupt while INTx is its mode: VFIO's trigger eventfd bound to the pin's GSI with
 * a resample eventfd, on which VFIO unmasks INTx when the guest has acknowledged the interrupt.
 *
 * <p>With a kernel irqfd ({@link InterruptController#hasKernelIrqFd()}), KVM raises the line and signals the
 * resample eventfd at the guest's EOI. Without one, vmm-core's {@link LoopInterruptController} does it from the event
 * loop: it pulses the line and signals the resample eventfd at once, so the guest may see an extra interrupt, never
 * a lost one.
 */
final class IntxLine implements AutoCloseable {
    private final VfioDevice device;
    private final GuestLog guestLog;
    private final EventFd trigger;
    private final EventFd resample;
    private final InterruptController.IrqFdBinding binding;
    private final boolean kernel;

    private IntxLine(VfioDevice device, GuestLog guestLog, EventFd trigger, EventFd resample,
            InterruptController.IrqFdBinding binding, boolean kernel) {
        this.device = device;
        this.guestLog = guestLog;
        this.trigger = trigger;
        this.resample = resample;
        this.binding = binding;
        this.kernel = kernel;
    }

    /** Wires INTx to {@code gsi}; on failure releases what it made and throws. */
    static IntxLine open(String name, Syscalls sys, VfioDevice device, InterruptController ic, EventLoop loop,
            int gsi, DeliveryCounts counts, GuestLog guestLog) {
        boolean kernel = ic.hasKernelIrqFd();
        InterruptController via = kernel ? ic : new LoopInterruptController(new CountedLine(ic, counts), loop);
        EventFd trigger = null;
        EventFd resample = null;
        InterruptController.IrqFdBinding binding = null;
        try {
            trigger = EventFd.create(sys, name + " INTx");
            resample = EventFd.create(sys, name + " INTx resample");
            binding = via.irqFd(trigger, gsi, resample);
            device.irqs().trigger(VFIO_PCI_INTX_IRQ_INDEX, 0, trigger);
            device.irqs().unmaskOnEventfd(VFIO_PCI_INTX_IRQ_INDEX, 0, resample.fd());
            return new IntxLine(device, guestLog, trigger, resample, binding, kernel);
        } catch (RuntimeException | Error e) {
            Closer.closeAfter(e, binding, trigger, resample);
            throw e;
        }
    }

    /** True when KVM delivers the line without the VMM (a resample irqfd). */
    boolean kernelRouted() {
        return kernel;
    }

    /** Disables INTx in VFIO (a failure is logged), then unbinds and closes the eventfds. */
    @Override
    public void close() {
        Closer closer = new Closer(); // the eventfds go even when disabling throws an Error
        closer.run(() -> {
            try {
                device.irqs().disable(VFIO_PCI_INTX_IRQ_INDEX);
            } catch (RuntimeException e) {
                guestLog.warn("INTx disable", "disabling INTx in VFIO failed", e);
            }
        });
        closer.run(() -> QuietClose.close(binding));
        closer.run(() -> QuietClose.close(trigger));
        closer.run(() -> QuietClose.close(resample));
        closer.rethrow();
    }

    /** The controller the loop delivers through, counting each INTx it raises. */
    private record CountedLine(InterruptController delegate, DeliveryCounts counts) implements InterruptController {
        @Override
        public void signalMsi(MsiMessage message) {
            delegate.signalMsi(message);
        }

        @Override
        public MsiRoute addMsiRoute(MsiMessage message) {
            return delegate.addMsiRoute(message);
        }

        @Override
        public void setIrqLine(int gsi, boolean level) {
            if (level) {
                counts.count(UserspaceDelivery.INTX);
            }
            delegate.setIrqLine(gsi, level);
        }

        @Override
        public boolean hasKernelIrqFd() {
            return false;
        }

        @Override
        public IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample) {
            return delegate.irqFd(trigger, gsi, resample);
        }
    }
}
