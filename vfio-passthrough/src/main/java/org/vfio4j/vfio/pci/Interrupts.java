package org.vfio4j.vfio.pci;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.pci.msi.MsiCapability;
import org.vfio4j.pci.msi.MsiState;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.irq.IrqInfo;

/**
 * Routes a passthrough function's interrupts to the guest, following what the guest programs in the emulated MSI
 * and MSI-X capabilities. One mode is active at a time; switching tears the old one down in VFIO first (VFIO refuses
 * to enable an index while another is enabled).
 *
 * <ul>
 *   <li><b>INTx</b>: a trigger eventfd bound to the pin's GSI with a resample eventfd, which VFIO uses to unmask
 *       the line when the guest EOIs (KVM resample irqfd). When the controller can't bind it, a loop callback pulses
 *       the line and unmasks at once (the guest may see an extra interrupt, never a lost one).</li>
 *   <li><b>MSI</b>: one eventfd per enabled vector, each with an MSI route and an irqfd; a vector the guest masks
 *       loses its irqfd and its signals set the emulated pending bit instead.</li>
 *   <li><b>MSI-X</b>: VFIO gets vectors lazily, as QEMU does: at enable, vectors 0 up to the highest one the guest
 *       has unmasked (at least one); when the guest unmasks a higher one, VFIO is disabled and enabled again with
 *       vectors up to it. A table of 2048 entries doesn't cost 2048 host vectors and 4096 eventfds. Each vector
 *       handed to VFIO has an eventfd; when the guest unmasks it, it gets a route and an irqfd; while masked (or
 *       function-masked) its signals are read on the event loop, which sets the emulated PBA bit; unmasking then
 *       delivers the pending message. When VFIO refuses vectors (ENOSPC: the host is out of vectors) the guest keeps
 *       MSI-X (falling back to INTx would leave a driver that enabled MSI-X waiting on the wrong interrupt); the
 *       failure is counted and logged, and the next unmask tries again. A table change re-reads the entry under
 *       this object's lock, so the route ends at the table's value whatever order two vCPUs' changes arrive in.</li>
 *   <li><b>ERR</b> and <b>REQ</b>: eventfds watched on the loop, reported to {@link DeviceEvents}.</li>
 * </ul>
 *
 * <p>The device calls in with what a guest write changed ({@link #msiChanged}, {@link #msixControlChanged}, ...)
 * after the write left the config space, so no emulation lock is held while VFIO and KVM are reprogrammed.
 *
 * <p>Every eventfd is watched on the loop for its whole life; while an irqfd is bound the kernel consumes the
 * signals (KVM reads the counter in its wakeup) and the loop finds nothing. A masked vector's signal sets its
 * pending bit from the loop ({@link MsiCapability#trigger} takes the config space's lock briefly; nobody holds that
 * lock while waiting for the loop).
 */
final class Interrupts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Interrupts.class);

    private final String name;
    private final Syscalls sys;
    private final VfioDevice device;
    private final InterruptController ic;
    private final EventLoop loop;
    private final DeviceEvents events;
    private final Runnable release;
    private final int intxGsi;
    private final int pin;
    private final GuestLog guestLog;
    private MsiCapability msi;
    private MsixCapability msix;

    private InterruptMode mode = InterruptMode.NONE;
    private Vector intx;
    private InterruptController.IrqFdBinding intxBinding;
    private EventFd intxResample;
    private Vector[] vectors = new Vector[0];
    private Vector err;
    private Vector req;
    private boolean closed;

    private final Map<String, LongAdder> userspace = new TreeMap<>();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    /** Times VFIO refused the vectors the guest enabled. */
    final AtomicLong setupFailures = new AtomicLong();

    Interrupts(String name, Syscalls sys, VfioDevice device, InterruptController ic, EventLoop loop,
            DeviceEvents events, Runnable release, int intxGsi, int pin, GuestLog guestLog) {
        this.guestLog = guestLog;
        this.name = name;
        this.sys = sys;
        this.device = device;
        this.ic = ic;
        this.loop = loop;
        this.events = events;
        this.release = release;
        this.intxGsi = intxGsi;
        this.pin = pin;
        for (String k : new String[] {"intx", "msi", "msi-pending", "msix", "msix-pending"}) {
            userspace.put(k, new LongAdder());
        }
    }

    /** Connects the emulated capabilities (either may be null). */
    void attachCapabilities(MsiCapability msi, MsixCapability msix) {
        this.msi = msi;
        this.msix = msix;
    }

    /** Where the emulated MSI capability sends messages (pending vectors unmasked by the guest). */
    void deliverMsi(MsiMessage m) {
        ic.signalMsi(m);
        userspace.get("msi").increment();
    }

    /** Where the emulated MSI-X capability sends messages (pending vectors unmasked by the guest). */
    void deliverMsix(MsiMessage m) {
        ic.signalMsi(m);
        userspace.get("msix").increment();
    }

    /** Starts ERR and REQ reporting (when VFIO offers them) and INTx (when the function has a pin). */
    synchronized void start() {
        err = watchSingle(VFIO_PCI_ERR_IRQ_INDEX, "ERR", count -> {
            errors.incrementAndGet();
            guestLog.warn("ERR", "device reported an uncorrectable error (VFIO ERR)", null);
            events.deviceError(name, "uncorrectable error signalled through VFIO_PCI_ERR_IRQ_INDEX");
        });
        req = watchSingle(VFIO_PCI_REQ_IRQ_INDEX, "REQ", count -> {
            requests.incrementAndGet();
            LOG.info("{}: the host requests the device back (VFIO REQ)", name);
            events.unplugRequested(name, release);
        });
        enterIntx();
    }

    private Vector watchSingle(int index, String what, EventLoop.Callback callback) {
        IrqInfo info;
        try {
            info = device.irqInfo(index);
        } catch (RuntimeException e) {
            return null;
        }
        if (info.count() < 1 || !info.eventfd()) {
            return null;
        }
        Vector v = new Vector(EventFd.create(sys, name + " " + what));
        try {
            v.loopReg = loop.register(v.fd, callback);
            device.irqs().trigger(index, 0, v.fd);
            return v;
        } catch (RuntimeException | Error e) {
            Closer c = new Closer();
            c.run(v::close);
            if (e instanceof Error) {
                c.add(e);
                c.rethrow();
            }
            LOG.warn("{}: {} reporting not available: {}", name, what, e.getMessage());
            c.rethrow();
            return null;
        }
    }

    /** The mode in effect. */
    synchronized InterruptMode mode() {
        return mode;
    }

    /** Vectors of the current mode bound to an irqfd. */
    synchronized int kernelRoutedVectors() {
        int n = intxBinding != null ? 1 : 0;
        for (Vector v : vectors) {
            if (v != null && v.irqfd != null) {
                n++;
            }
        }
        return n;
    }

    /** The message KVM routes for vector {@code vector} of the current mode, or null when it has no route. */
    synchronized MsiMessage routedMessage(int vector) {
        if (vector >= vectors.length || vectors[vector] == null || vectors[vector].route == null) {
            return null;
        }
        return vectors[vector].route.message();
    }

    /** Interrupts that went through userspace, by path. */
    Map<String, Long> userspaceCounts() {
        Map<String, Long> out = new TreeMap<>();
        userspace.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    // ------------------------------------------------------------------------------------------------------ INTx

    private void enterIntx() {
        if (closed || pin == 0) {
            mode = InterruptMode.NONE;
            return;
        }
        IrqInfo info = device.irqInfo(VFIO_PCI_INTX_IRQ_INDEX);
        if (info.count() < 1) {
            mode = InterruptMode.NONE;
            return;
        }
        Vector v = new Vector(EventFd.create(sys, name + " INTx"));
        EventFd resample = null;
        try {
            resample = EventFd.create(sys, name + " INTx resample");
            try {
                intxBinding = ic.irqFd(v.fd, intxGsi, resample);
            } catch (RuntimeException e) {
                LOG.info("{}: INTx irqfd on GSI {} not available ({}); delivering from the event loop", name,
                        intxGsi, e.getMessage());
                v.loopReg = loop.register(v.fd, count -> intxFromLoop());
            }
            device.irqs().trigger(VFIO_PCI_INTX_IRQ_INDEX, 0, v.fd);
            if (intxBinding != null) {
                device.irqs().unmaskOnEventfd(VFIO_PCI_INTX_IRQ_INDEX, 0, resample.fd());
            }
            intx = v;
            intxResample = resample;
            mode = InterruptMode.INTX;
        } catch (RuntimeException | Error e) {
            Closer c = new Closer();
            EventFd r = resample;
            c.run(() -> closeIntxParts(v, r));
            mode = InterruptMode.NONE;
            if (e instanceof Error) {
                c.add(e);
                c.rethrow();
            }
            guestLog.warn("INTx setup", "INTx setup failed; the function has no legacy interrupt", e);
            c.rethrow();
        }
    }

    private void intxFromLoop() {
        userspace.get("intx").increment();
        try {
            ic.setIrqLine(intxGsi, true);
            ic.setIrqLine(intxGsi, false);
            device.irqs().unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        } catch (RuntimeException e) {
            guestLog.warn("INTx delivery", "delivering INTx on GSI " + intxGsi + " failed", e);
        }
    }

    private void leaveIntx() {
        Vector v = intx;
        EventFd r = intxResample;
        intx = null;
        intxResample = null;
        Closer c = new Closer(); // the eventfds go even when disabling throws an Error
        c.run(() -> {
            try {
                device.irqs().disable(VFIO_PCI_INTX_IRQ_INDEX);
            } catch (RuntimeException e) {
                guestLog.warn("INTx disable", "disabling INTx in VFIO failed", e);
            }
        });
        c.run(() -> closeIntxParts(v, r));
        c.rethrow();
    }

    private void closeIntxParts(Vector v, EventFd resample) {
        Closer c = new Closer();
        InterruptController.IrqFdBinding b = intxBinding;
        intxBinding = null;
        if (b != null) {
            c.run(() -> quietly(b));
        }
        if (v != null) {
            c.run(v::close);
        }
        if (resample != null) {
            c.run(() -> quietly(resample));
        }
        c.rethrow();
    }

    // ------------------------------------------------------------------------------------------------------- MSI

    /** The guest changed MSI's enable, address, data or vector count; {@code state} is its programming now. */
    void msiChanged(MsiState state) {
        synchronized (this) {
            if (closed) {
                return;
            }
            try {
                if (state.enabled()) {
                    if (mode == InterruptMode.MSIX) {
                        return; // MSI-X wins while enabled; MSI is picked up when MSI-X is disabled
                    }
                    if (mode == InterruptMode.MSI && vectors.length == state.enabledVectors()) {
                        for (int i = 0; i < vectors.length; i++) {
                            if (vectors[i].route != null) {
                                vectors[i].route.update(state.message(i));
                            }
                        }
                        return;
                    }
                    leaveCurrent();
                    enterMsi(state);
                } else if (mode == InterruptMode.MSI) {
                    leaveCurrent();
                    enterIntx();
                }
            } catch (RuntimeException e) {
                guestLog.warn("MSI control", "applying the guest's MSI configuration failed", e);
            }
        }
    }

    /** The guest changed the per-vector mask bit of MSI vector {@code vector}. */
    void msiVectorMasked(int vector, boolean masked) {
        synchronized (this) {
            if (mode != InterruptMode.MSI || vector >= vectors.length) {
                return;
            }
            try {
                Vector v = vectors[vector];
                if (masked) {
                    v.unbind();
                } else {
                    v.bind();
                }
            } catch (RuntimeException e) {
                guestLog.warn("MSI vector", "applying the guest's mask of MSI vector " + vector + " failed", e);
            }
        }
    }

    private void enterMsi(MsiState state) {
        int n = state.enabledVectors();
        Vector[] vs = new Vector[n];
        try {
            for (int i = 0; i < n; i++) {
                int index = i;
                vs[i] = new Vector(EventFd.create(sys, name + " MSI " + i));
                vs[i].loopReg = loop.register(vs[i].fd, count -> msiFromLoop(index));
                vs[i].route = ic.addMsiRoute(state.message(i));
                if (!state.masked(i)) {
                    vs[i].bind();
                }
            }
            device.irqs().trigger(VFIO_PCI_MSI_IRQ_INDEX, 0, fds(vs));
            vectors = vs;
            mode = InterruptMode.MSI;
        } catch (RuntimeException | Error e) {
            if (e instanceof Error) {
                Closer c = new Closer();
                c.add(e);
                c.run(() -> closeAll(vs));
                c.rethrow();
            }
            closeAll(vs);
            guestLog.warn("MSI enable", "enabling " + n + " MSI vectors failed; falling back to INTx", e);
            enterIntx();
        }
    }

    private void msiFromLoop(int vector) {
        MsiCapability cap = msi;
        if (cap != null && !cap.trigger(vector)) {
            userspace.get("msi-pending").increment();
        }
    }

    // ----------------------------------------------------------------------------------------------------- MSI-X

    /** The guest changed MSI-X's enable or function-mask bit. */
    void msixControlChanged() {
        synchronized (this) {
            if (closed) {
                return;
            }
            boolean enabled = msix.isEnabled();
            try {
                if (enabled && mode != InterruptMode.MSIX) {
                    leaveCurrent();
                    enterMsix();
                } else if (enabled) {
                    growMsix(highestDeliverable() + 1);
                    for (int i = 0; i < vectors.length; i++) {
                        reconcileMsix(i);
                    }
                } else if (mode == InterruptMode.MSIX) {
                    leaveCurrent();
                    MsiState st = msi == null ? null : msi.state();
                    if (st != null && st.enabled()) {
                        enterMsi(st);
                    } else {
                        enterIntx();
                    }
                }
            } catch (RuntimeException e) {
                guestLog.warn("MSI-X control", "applying the guest's MSI-X control change failed", e);
            }
        }
    }

    /**
     * The message or mask of MSI-X table entry {@code vector} changed. Another vCPU may have written the entry since
     * and had its change applied first, so the entry is read again here, under this lock: the route ends at the
     * table's value. Unmasking a vector beyond those VFIO has asks VFIO for more.
     */
    void msixVectorChanged(int vector) {
        synchronized (this) {
            if (mode != InterruptMode.MSIX) {
                return;
            }
            try {
                if (vector >= vectors.length && !msix.isVectorMasked(vector)) {
                    growMsix(vector + 1);
                }
                if (vector < vectors.length) {
                    reconcileMsix(vector);
                }
            } catch (RuntimeException e) {
                guestLog.warn("MSI-X vector", "applying the guest's change of MSI-X vector " + vector + " failed",
                        e);
            }
        }
    }

    private void enterMsix() {
        vectors = new Vector[0];
        mode = InterruptMode.MSIX;
        growMsix(Math.max(1, highestDeliverable() + 1));
    }

    /** The highest vector the guest lets deliver now (enabled, function unmasked, vector unmasked), or -1. */
    private int highestDeliverable() {
        if (!msix.isEnabled() || msix.isFunctionMasked()) {
            return -1;
        }
        for (int i = msix.vectors() - 1; i >= 0; i--) {
            if (!msix.isVectorMasked(i)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Makes sure VFIO has vectors 0..n-1 (n capped at the table size). Growing an enabled index means disabling it
     * and enabling it again with more (vfio-pci cannot add vectors to an enabled MSI-X index without dynamic MSI-X).
     * When VFIO refuses, the vectors it had are given back and the failure is counted; the mode stays MSI-X.
     */
    private void growMsix(int n) {
        n = Math.min(n, msix.vectors());
        int had = vectors.length;
        if (n <= had) {
            return;
        }
        Vector[] vs = java.util.Arrays.copyOf(vectors, n);
        try {
            for (int i = had; i < n; i++) {
                int index = i;
                vs[i] = new Vector(EventFd.create(sys, name + " MSI-X " + i));
                vs[i].loopReg = loop.register(vs[i].fd, count -> msixFromLoop(index));
            }
            if (had > 0) {
                device.irqs().disable(VFIO_PCI_MSIX_IRQ_INDEX);
            }
            vectors = vs;
            for (int i = had; i < n; i++) {
                reconcileMsix(i);
            }
            device.irqs().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 0, fds(vs));
        } catch (RuntimeException | Error e) {
            Closer c = new Closer();
            for (int i = had; i < n; i++) {
                Vector v = vs[i];
                if (v != null) {
                    c.run(v::close);
                }
            }
            vectors = java.util.Arrays.copyOf(vs, had);
            if (e instanceof Error err) {
                c.add(err);
                c.rethrow();
            }
            setupFailures.incrementAndGet();
            guestLog.warn("MSI-X enable", String.format("VFIO refused MSI-X vectors 0..%d (%s); the guest keeps MSI-X "
                    + "with %d vector(s), the next unmask tries again", n - 1, e.getMessage(), had), null);
            if (had > 0) {
                try {
                    device.irqs().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 0, fds(vectors));
                } catch (RuntimeException again) {
                    guestLog.warn("MSI-X enable", "re-enabling the MSI-X vectors VFIO had failed", again);
                }
            }
            c.rethrow();
        }
    }

    /** Gives vector {@code i} a route and irqfd when the guest lets it deliver, takes the irqfd away otherwise. */
    private void reconcileMsix(int i) {
        Vector v = vectors[i];
        boolean deliverable = msix.isEnabled() && !msix.isFunctionMasked() && !msix.isVectorMasked(i);
        if (deliverable) {
            MsiMessage m = msix.message(i);
            if (v.route == null) {
                v.route = ic.addMsiRoute(m);
            } else if (!m.equals(v.route.message())) {
                v.route.update(m);
            }
            v.bind();
        } else {
            v.unbind();
        }
    }

    private void msixFromLoop(int vector) {
        MsixCapability cap = msix;
        if (cap != null && !cap.trigger(vector)) {
            userspace.get("msix-pending").increment();
        }
    }

    // ---------------------------------------------------------------------------------------------------- common

    private void leaveCurrent() {
        switch (mode) {
            case INTX -> leaveIntx();
            case MSI -> leaveVectors(VFIO_PCI_MSI_IRQ_INDEX);
            case MSIX -> leaveVectors(VFIO_PCI_MSIX_IRQ_INDEX);
            case NONE -> { }
        }
        mode = InterruptMode.NONE;
    }

    private void leaveVectors(int index) {
        Vector[] vs = vectors;
        vectors = new Vector[0];
        Closer c = new Closer(); // the eventfds go even when disabling throws an Error
        c.run(() -> {
            try {
                device.irqs().disable(index);
            } catch (RuntimeException e) {
                guestLog.warn("IRQ disable", "disabling IRQ index " + index + " in VFIO failed", e);
            }
        });
        c.run(() -> closeAll(vs));
        c.rethrow();
    }

    /** Tears down the current mode (before a reset). */
    synchronized void suspend() {
        leaveCurrent();
    }

    /** Sets up the mode the emulated capabilities say is enabled (after a reset). */
    synchronized void resume() {
        if (closed || mode != InterruptMode.NONE) {
            return;
        }
        if (msix != null && msix.isEnabled()) {
            enterMsix();
        } else if (msi != null && msi.state().enabled()) {
            enterMsi(msi.state());
        } else {
            enterIntx();
        }
    }

    private static EventFd[] fds(Vector[] vs) {
        EventFd[] out = new EventFd[vs.length];
        for (int i = 0; i < vs.length; i++) {
            out[i] = vs[i].fd;
        }
        return out;
    }

    private static void closeAll(Vector[] vs) {
        Closer c = new Closer();
        for (Vector v : vs) {
            if (v != null) {
                c.run(v::close);
            }
        }
        c.rethrow();
    }

    /** Disables every index in VFIO and releases irqfds, routes, loop watches and eventfds. */
    @Override
    public void close() {
        Closer c = new Closer();
        synchronized (this) {
            if (closed) {
                return;
            }
            c.run(this::leaveCurrent);
            mode = InterruptMode.NONE;
            vectors = new Vector[0];
            closed = true;
            for (int[] pair : new int[][] {{VFIO_PCI_ERR_IRQ_INDEX, err == null ? 0 : 1},
                    {VFIO_PCI_REQ_IRQ_INDEX, req == null ? 0 : 1}}) {
                if (pair[1] == 1) {
                    c.run(() -> {
                        try {
                            device.irqs().disable(pair[0]);
                        } catch (RuntimeException e) {
                            LOG.warn("{}: disabling IRQ index {} failed", name, pair[0], e);
                        }
                    });
                }
            }
            Vector e = err;
            Vector r = req;
            if (e != null) {
                c.run(e::close);
            }
            if (r != null) {
                c.run(r::close);
            }
            err = null;
            req = null;
        }
        c.rethrow();
    }

    private static void quietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {} failed", c, e);
        }
    }

    /** One eventfd VFIO signals, and what carries it to the guest. */
    private final class Vector {
        final EventFd fd;
        EventLoop.Registration loopReg;
        InterruptController.MsiRoute route;
        InterruptController.IrqFdBinding irqfd;

        Vector(EventFd fd) {
            this.fd = fd;
        }

        void bind() {
            if (irqfd == null && route != null) {
                irqfd = ic.irqFd(fd, route.gsi(), null);
            }
        }

        void unbind() {
            InterruptController.IrqFdBinding b = irqfd;
            irqfd = null;
            if (b != null) {
                quietly(b);
            }
        }

        void close() {
            Closer c = new Closer();
            c.run(this::unbind);
            InterruptController.MsiRoute r = route;
            route = null;
            if (r != null) {
                c.run(() -> quietly(r));
            }
            EventLoop.Registration l = loopReg;
            loopReg = null;
            if (l != null) {
                c.run(() -> quietly(l));
            }
            c.run(() -> quietly(fd));
            c.rethrow();
        }
    }
}
