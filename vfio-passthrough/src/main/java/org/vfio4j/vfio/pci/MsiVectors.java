package org.vfio4j.vfio.pci;

import java.util.Arrays;
import java.util.function.IntConsumer;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.VfioDevice;

/**
 * The vectors of one MSI or MSI-X index that VFIO signals: an eventfd per vector, watched on the event loop for its
 * whole life, and, while the guest lets the vector deliver and the controller has kernel irqfds
 * ({@link InterruptController#hasKernelIrqFd()}), an MSI route and an irqfd, so KVM delivers it without the VMM.
 *
 * <p>A signal the kernel does not consume (the vector is held back because the guest masked it, or there are no
 * kernel irqfds) is read by the loop and handed to {@code fromLoop}: the emulated capability's trigger, which sends
 * the message the guest programmed or sets the pending bit. While an irqfd is bound, KVM reads the counter in its
 * wakeup and the loop finds nothing. Not thread-safe: {@link Interrupts} calls it under its lock.
 */
final class MsiVectors implements AutoCloseable {
    private final String name;
    private final int index;
    private final Syscalls sys;
    private final VfioDevice device;
    private final InterruptController ic;
    private final EventLoop loop;
    private final IntConsumer fromLoop;
    private final GuestLog guestLog;
    private final boolean kernel;
    private Vector[] vectors = new Vector[0];

    /**
     * @param name     the function and the kind, for eventfd names ("0000:01:00.0 MSI-X")
     * @param index    VFIO's IRQ index (MSI or MSI-X)
     * @param fromLoop what the loop does with a signal of vector n
     */
    MsiVectors(String name, int index, Syscalls sys, VfioDevice device, InterruptController ic, EventLoop loop,
            IntConsumer fromLoop, GuestLog guestLog) {
        this.name = name;
        this.index = index;
        this.sys = sys;
        this.device = device;
        this.ic = ic;
        this.loop = loop;
        this.fromLoop = fromLoop;
        this.guestLog = guestLog;
        this.kernel = ic.hasKernelIrqFd();
    }

    /** How many vectors VFIO has. */
    int size() {
        return vectors.length;
    }

    /**
     * Makes sure VFIO has vectors 0..n-1. Each new vector gets an eventfd watched on the loop, then {@code setUp}
     * (which calls {@link #deliver} or {@link #hold}), then VFIO gets every eventfd. VFIO cannot add vectors to an
     * enabled index (without dynamic MSI-X), so growing one disables it and enables it again with more. On failure
     * the new vectors are released, VFIO gets back those it had, and the failure is thrown.
     */
    void grow(int n, IntConsumer setUp) {
        int had = vectors.length;
        if (n <= had) {
            return;
        }
        Vector[] grown = Arrays.copyOf(vectors, n);
        try {
            for (int i = had; i < n; i++) {
                int vector = i;
                grown[i] = new Vector(EventFd.create(sys, name + " " + i));
                grown[i].watch = loop.register(grown[i].fd, count -> fromLoop.accept(vector));
            }
            if (had > 0) {
                device.irqs().disable(index);
            }
            vectors = grown;
            for (int i = had; i < n; i++) {
                setUp.accept(i);
            }
            device.irqs().trigger(index, 0, fds(grown));
        } catch (RuntimeException | Error e) {
            Closer closer = new Closer();
            closer.add(e);
            for (int i = had; i < n; i++) {
                closer.close(grown[i] == null ? null : grown[i]::close);
            }
            vectors = Arrays.copyOf(grown, had);
            if (had > 0 && e instanceof RuntimeException) {
                closer.run(() -> device.irqs().trigger(index, 0, fds(vectors)));
            }
            closer.rethrow();
        }
    }

    /**
     * Vector {@code vector} may deliver {@code message}: with kernel irqfds it gets a route (added, or moved to the
     * message) and an irqfd; without, the loop delivers it through the capability, which reads the message itself.
     */
    void deliver(int vector, MsiMessage message) {
        if (!kernel) {
            return;
        }
        Vector v = vectors[vector];
        if (v.route == null) {
            v.route = ic.addMsiRoute(message);
        } else if (!message.equals(v.route.message())) {
            v.route.update(message);
        }
        if (v.irqfd == null) {
            v.irqfd = ic.irqFd(v.fd, v.route.gsi(), null);
        }
    }

    /** Vector {@code vector} must not deliver (the guest masked it): its signals go to the loop. */
    void hold(int vector) {
        vectors[vector].unbind();
    }

    /** Vectors KVM delivers by itself now. */
    int kernelRouted() {
        int n = 0;
        for (Vector v : vectors) {
            if (v != null && v.irqfd != null) {
                n++;
            }
        }
        return n;
    }

    /** The message KVM routes for {@code vector}, or null when it has no route. */
    MsiMessage routedMessage(int vector) {
        return vector < vectors.length && vectors[vector].route != null ? vectors[vector].route.message() : null;
    }

    /** Disables the index in VFIO (a failure is logged) and releases every vector. */
    @Override
    public void close() {
        Vector[] all = vectors;
        vectors = new Vector[0];
        Closer closer = new Closer(); // the eventfds go even when disabling throws an Error
        closer.run(() -> {
            try {
                device.irqs().disable(index);
            } catch (RuntimeException e) {
                guestLog.warn("IRQ disable", "disabling IRQ index " + index + " in VFIO failed", e);
            }
        });
        for (Vector v : all) {
            closer.close(v == null ? null : v::close);
        }
        closer.rethrow();
    }

    private static EventFd[] fds(Vector[] vs) {
        EventFd[] out = new EventFd[vs.length];
        for (int i = 0; i < vs.length; i++) {
            out[i] = vs[i].fd;
        }
        return out;
    }

    /** One eventfd VFIO signals, and what carries it to the guest. */
    private static final class Vector {
        final EventFd fd;
        EventLoop.Registration watch;
        InterruptController.MsiRoute route;
        InterruptController.IrqFdBinding irqfd;

        Vector(EventFd fd) {
            this.fd = fd;
        }

        void unbind() {
            InterruptController.IrqFdBinding b = irqfd;
            irqfd = null;
            QuietClose.close(b);
        }

        void close() {
            Closer closer = new Closer();
            closer.run(this::unbind);
            closer.run(() -> QuietClose.close(route));
            closer.run(() -> QuietClose.close(watch));
            closer.run(() -> QuietClose.close(fd));
            route = null;
            watch = null;
            closer.rethrow();
        }
    }
}
