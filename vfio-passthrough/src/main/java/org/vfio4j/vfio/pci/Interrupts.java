package org.vfio4j.vfio.pci;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
import org.vfio4j.pci.msi.MsiCapability;
import org.vfio4j.pci.msi.MsiListener;
import org.vfio4j.pci.msi.MsiState;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.pci.msix.MsixListener;
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
 *   <li><b>MSI-X</b>: one eventfd per table entry, all handed to VFIO at enable. Each vector is enabled separately:
 *       when the guest unmasks it, it gets a route and an irqfd; while masked (or function-masked) its signals are
 *       read on the event loop, which sets the emulated PBA bit; unmasking then delivers the pending message.</li>
 *   <li><b>ERR</b> and <b>REQ</b>: eventfds watched on the loop, reported to {@link DeviceEvents}.</li>
 * </ul>
 *
 * <p>Every eventfd is watched on the loop for its whole life; while an irqfd is bound the kernel consumes the
 * signals (KVM reads the counter in its wakeup) and the loop finds nothing. Loop callbacks never take the config
 * space lock (the vCPU thread holding it may be waiting for the loop): MSI's masked path is handed to a separate
 * thread because {@link MsiCapability#trigger} takes that lock.
 */
final class Interrupts implements MsiListener, MsixListener, AutoCloseable {
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
    private MsiCapability msi;
    private MsixCapability msix;

    private InterruptMode mode = InterruptMode.NONE;
    private Vector intx;
    private InterruptController.IrqFdBinding intxBinding;
    private EventFd intxResample;
    private Vector[] vectors = new Vector[0];
    private Vector err;
    private Vector req;
    private volatile ExecutorService msiWorker;
    private volatile Thread msiWorkerThread;
    private boolean closed;

    private final Map<String, LongAdder> userspace = new TreeMap<>();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong requests = new AtomicLong();

    Interrupts(String name, Syscalls sys, VfioDevice device, InterruptController ic, EventLoop loop,
            DeviceEvents events, Runnable release, int intxGsi, int pin) {
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
        if (msi != null) {
            msi.addListener(this);
            // MsiCapability.trigger takes the config space lock, which a vCPU may hold while it waits for the
            // event loop; the loop hands masked-vector signals to this thread instead of blocking on it.
            msiWorker = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "vfio4j-msi-" + name);
                t.setDaemon(true);
                msiWorkerThread = t;
                return t;
            });
        }
        if (msix != null) {
            msix.addListener(this);
        }
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
            LOG.warn("{}: device reported an uncorrectable error (VFIO ERR)", name);
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
        } catch (RuntimeException e) {
            v.close();
            LOG.warn("{}: {} reporting not available: {}", name, what, e.getMessage());
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
        } catch (RuntimeException e) {
            closeIntxParts(v, resample);
            mode = InterruptMode.NONE;
            LOG.warn("{}: INTx setup failed; the function has no legacy interrupt", name, e);
        }
    }

    private void intxFromLoop() {
        userspace.get("intx").increment();
        try {
            ic.setIrqLine(intxGsi, true);
            ic.setIrqLine(intxGsi, false);
            device.irqs().unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
        } catch (RuntimeException e) {
            LOG.warn("{}: delivering INTx on GSI {} failed", name, intxGsi, e);
        }
    }

    private void leaveIntx() {
        try {
            device.irqs().disable(VFIO_PCI_INTX_IRQ_INDEX);
        } catch (RuntimeException e) {
            LOG.warn("{}: disabling INTx in VFIO failed", name, e);
        }
        closeIntxParts(intx, intxResample);
        intx = null;
        intxResample = null;
    }

    private void closeIntxParts(Vector v, EventFd resample) {
        if (intxBinding != null) {
            quietly(intxBinding);
            intxBinding = null;
        }
        if (v != null) {
            v.close();
        }
        if (resample != null) {
            quietly(resample);
        }
    }

    // ------------------------------------------------------------------------------------------------------- MSI

    @Override
    public void msiConfigured(MsiState state) {
        synchronized (this) {
            if (closed) {
                return;
            }
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
        }
    }

    @Override
    public void msiVectorMasked(int vector, boolean masked) {
        synchronized (this) {
            if (mode != InterruptMode.MSI || vector >= vectors.length) {
                return;
            }
            Vector v = vectors[vector];
            if (masked) {
                v.unbind();
            } else {
                v.bind();
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
        } catch (RuntimeException e) {
            closeAll(vs);
            LOG.warn("{}: enabling {} MSI vectors failed; falling back to INTx", name, n, e);
            enterIntx();
        }
    }

    private void msiFromLoop(int vector) {
        ExecutorService w = msiWorker;
        if (w == null || w.isShutdown()) {
            return;
        }
        w.execute(() -> {
            MsiCapability cap = msi;
            if (cap != null && !cap.trigger(vector)) {
                userspace.get("msi-pending").increment();
            }
        });
    }

    // ----------------------------------------------------------------------------------------------------- MSI-X

    @Override
    public void msixControlChanged(boolean enabled, boolean functionMasked) {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (enabled && mode != InterruptMode.MSIX) {
                leaveCurrent();
                enterMsix();
            } else if (enabled) {
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
        }
    }

    @Override
    public void msixVectorMasked(int vector, boolean masked) {
        synchronized (this) {
            if (mode == InterruptMode.MSIX && vector < vectors.length) {
                reconcileMsix(vector);
            }
        }
    }

    @Override
    public void msixVectorUpdated(int vector, MsiMessage message) {
        synchronized (this) {
            if (mode == InterruptMode.MSIX && vector < vectors.length && vectors[vector].route != null) {
                try {
                    vectors[vector].route.update(message);
                } catch (RuntimeException e) {
                    LOG.warn("{}: updating MSI-X vector {} route to {} failed", name, vector, message, e);
                }
            }
        }
    }

    private void enterMsix() {
        int n = msix.vectors();
        Vector[] vs = new Vector[n];
        try {
            for (int i = 0; i < n; i++) {
                int index = i;
                vs[i] = new Vector(EventFd.create(sys, name + " MSI-X " + i));
                vs[i].loopReg = loop.register(vs[i].fd, count -> msixFromLoop(index));
            }
            vectors = vs;
            mode = InterruptMode.MSIX;
            for (int i = 0; i < n; i++) {
                reconcileMsix(i);
            }
            device.irqs().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 0, fds(vs));
        } catch (RuntimeException e) {
            closeAll(vs);
            vectors = new Vector[0];
            mode = InterruptMode.NONE;
            LOG.warn("{}: enabling {} MSI-X vectors failed; falling back to INTx", name, n, e);
            enterIntx();
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
        try {
            device.irqs().disable(index);
        } catch (RuntimeException e) {
            LOG.warn("{}: disabling IRQ index {} in VFIO failed", name, index, e);
        }
        closeAll(vectors);
        vectors = new Vector[0];
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
        for (Vector v : vs) {
            if (v != null) {
                v.close();
            }
        }
    }

    /** Disables every index in VFIO and releases irqfds, routes, loop watches, eventfds and the MSI worker. */
    @Override
    public void close() {
        ExecutorService w;
        synchronized (this) {
            if (closed) {
                return;
            }
            leaveCurrent();
            closed = true;
            for (int[] pair : new int[][] {{VFIO_PCI_ERR_IRQ_INDEX, err == null ? 0 : 1},
                    {VFIO_PCI_REQ_IRQ_INDEX, req == null ? 0 : 1}}) {
                if (pair[1] == 1) {
                    try {
                        device.irqs().disable(pair[0]);
                    } catch (RuntimeException e) {
                        LOG.warn("{}: disabling IRQ index {} failed", name, pair[0], e);
                    }
                }
            }
            if (err != null) {
                err.close();
            }
            if (req != null) {
                req.close();
            }
            err = null;
            req = null;
            w = msiWorker;
            msiWorker = null;
        }
        if (w != null) {
            w.shutdownNow();
            try {
                w.awaitTermination(5, TimeUnit.SECONDS);
                Thread t = msiWorkerThread;
                if (t != null) {
                    t.join(TimeUnit.SECONDS.toMillis(5)); // termination is signalled before the thread ends
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
            if (irqfd != null) {
                quietly(irqfd);
                irqfd = null;
            }
        }

        void close() {
            unbind();
            if (route != null) {
                quietly(route);
                route = null;
            }
            if (loopReg != null) {
                quietly(loopReg);
                loopReg = null;
            }
            quietly(fd);
        }
    }
}
