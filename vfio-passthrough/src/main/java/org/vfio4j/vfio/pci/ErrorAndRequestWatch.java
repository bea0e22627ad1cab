package org.vfio4j.vfio.pci;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_ERR_IRQ_INDEX;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_REQ_IRQ_INDEX;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.irq.IrqInfo;

/**
 * Watches a passthrough function's ERR and REQ eventfds on the event loop, when VFIO offers them, and reports them to
 * the VMM's {@link DeviceEvents}: an uncorrectable error ({@code deviceError}), and the host asking for the device
 * back ({@code unplugRequested}, with a way to release it).
 */
final class ErrorAndRequestWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorAndRequestWatch.class);

    private final String name;
    private final VfioDevice device;
    /** ERR signals so far. */
    final AtomicLong errors = new AtomicLong();
    /** REQ signals so far. */
    final AtomicLong requests = new AtomicLong();
    private Watched err;
    private Watched req;
    private boolean closed;

    ErrorAndRequestWatch(String name, VfioDevice device) {
        this.name = name;
        this.device = device;
    }

    /**
     * Starts watching what VFIO offers; an index it doesn't offer, or one whose setup fails (logged), is left out.
     * What a failure leaves started is released by {@link #close()}.
     *
     * @param release what the VMM calls to give the device back after a REQ
     */
    synchronized void start(Syscalls sys, EventLoop loop, DeviceEvents events, Runnable release,
            GuestLog guestLog) {
        err = watch(sys, loop, VFIO_PCI_ERR_IRQ_INDEX, "ERR", count -> {
            errors.incrementAndGet();
            guestLog.warn("ERR", "device reported an uncorrectable error (VFIO ERR)", null);
            events.deviceError(name, "uncorrectable error signalled through VFIO_PCI_ERR_IRQ_INDEX");
        });
        req = watch(sys, loop, VFIO_PCI_REQ_IRQ_INDEX, "REQ", count -> {
            requests.incrementAndGet();
            LOG.info("{}: the host requests the device back (VFIO REQ)", name);
            events.unplugRequested(name, release);
        });
    }

    private Watched watch(Syscalls sys, EventLoop loop, int index, String what, EventLoop.Callback callback) {
        IrqInfo info;
        try {
            info = device.irqInfo(index);
        } catch (RuntimeException e) {
            return null;
        }
        if (info.count() < 1 || !info.eventfd()) {
            return null;
        }
        EventFd fd = EventFd.create(sys, name + " " + what);
        EventLoop.Registration registration = null;
        try {
            registration = loop.register(fd, callback);
            device.irqs().trigger(index, 0, fd);
            return new Watched(index, fd, registration);
        } catch (RuntimeException | Error e) {
            Closer closer = new Closer();
            closer.close(registration);
            closer.close(fd);
            if (e instanceof Error) {
                closer.add(e);
                closer.rethrow();
            }
            LOG.warn("{}: {} reporting not available: {}", name, what, e.getMessage());
            closer.rethrow();
            return null;
        }
    }

    /** Disables ERR and REQ in VFIO (failures logged) and stops watching. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closer closer = new Closer();
        for (Watched w : new Watched[] {err, req}) {
            if (w != null) {
                closer.run(() -> {
                    try {
                        device.irqs().disable(w.index);
                    } catch (RuntimeException e) {
                        LOG.warn("{}: disabling IRQ index {} failed", name, w.index, e);
                    }
                });
                closer.run(() -> QuietClose.close(w.registration));
                closer.run(() -> QuietClose.close(w.fd));
            }
        }
        err = null;
        req = null;
        closer.rethrow();
    }

    /** One watched index: VFIO signals {@code fd}, the loop reads it. */
    private record Watched(int index, EventFd fd, EventLoop.Registration registration) {
    }
}
