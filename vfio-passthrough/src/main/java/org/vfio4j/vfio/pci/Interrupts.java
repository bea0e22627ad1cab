package org.vfio4j.vfio.pci;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.pci.msi.MsiCapability;
import org.vfio4j.pci.msi.MsiState;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.irq.IrqInfo;

/**
 * Which of a passthrough function's interrupt modes is live, following what the guest programs in the emulated MSI
 * and MSI-X capabilities. One mode at a time; switching tears the old one down in VFIO first (VFIO refuses to enable
 * an index while another is enabled).
 *
 * <ul>
 *   <li><b>INTx</b> ({@link IntxLine}) while neither MSI nor MSI-X is enabled and the function has a pin.</li>
 *   <li><b>MSI</b> ({@link MsiVectors}): every enabled vector handed to VFIO; a vector the guest masks is held back
 *       (its signals set the emulated pending bit).</li>
 *   <li><b>MSI-X</b> ({@link MsiVectors}): VFIO gets vectors lazily, as QEMU does: at enable, vectors 0 up to the
 *       highest one the guest has unmasked (at least one); when the guest unmasks a higher one, VFIO gets vectors up
 *       to it. A table of 2048 entries doesn't cost 2048 host vectors and 4096 eventfds. When VFIO refuses vectors
 *       (ENOSPC: the host is out of vectors) the guest keeps MSI-X (falling back to INTx would leave a driver that
 *       enabled MSI-X waiting on the wrong interrupt); the failure is counted and logged, and the next unmask tries
 *       again. MSI-X wins over MSI while both are enabled.</li>
 * </ul>
 *
 * <p>The device calls in with what a guest write changed ({@link #msiChanged}, {@link #msixControlChanged}, ...)
 * after the write left the config space, so no emulation lock is held while VFIO and KVM are reprogrammed. Each call
 * reads the capability's current state under this object's lock, so the routes end at the guest's latest
 * programming whatever order two vCPUs' changes arrive in. The event loop never takes this lock.
 */
final class Interrupts implements AutoCloseable {
    private final String name;
    private final Syscalls sys;
    private final VfioDevice device;
    private final InterruptController ic;
    private final EventLoop loop;
    private final int intxGsi;
    private final int pin;
    private final GuestLog guestLog;
    private final DeliveryCounts counts = new DeliveryCounts();
    /** Times VFIO refused the vectors the guest enabled. */
    final AtomicLong setupFailures = new AtomicLong();
    private MsiCapability msi;
    private MsixCapability msix;

    private InterruptMode mode = InterruptMode.NONE;
    private IntxLine intx;
    private MsiVectors vectors;
    private boolean closed;

    Interrupts(String name, Syscalls sys, VfioDevice device, InterruptController ic, EventLoop loop, int intxGsi,
            int pin, GuestLog guestLog) {
        this.name = name;
        this.sys = sys;
        this.device = device;
        this.ic = ic;
        this.loop = loop;
        this.intxGsi = intxGsi;
        this.pin = pin;
        this.guestLog = guestLog;
    }

    /** Connects the emulated capabilities (either may be null). */
    void attachCapabilities(MsiCapability msi, MsixCapability msix) {
        this.msi = msi;
        this.msix = msix;
    }

    /** Where the emulated MSI capability sends messages (pending vectors unmasked, loop deliveries). */
    void deliverMsi(MsiMessage m) {
        ic.signalMsi(m);
        counts.count(UserspaceDelivery.MSI);
    }

    /** Where the emulated MSI-X capability sends messages (pending vectors unmasked, loop deliveries). */
    void deliverMsix(MsiMessage m) {
        ic.signalMsi(m);
        counts.count(UserspaceDelivery.MSIX);
    }

    /** Starts INTx, when the function has a pin. */
    synchronized void start() {
        enterIntx();
    }

    /** The mode in effect. */
    synchronized InterruptMode mode() {
        return mode;
    }

    /** Vectors of the current mode KVM delivers by itself (irqfds). */
    synchronized int kernelRoutedVectors() {
        if (intx != null) {
            return intx.kernelRouted() ? 1 : 0;
        }
        return vectors == null ? 0 : vectors.kernelRouted();
    }

    /** The message KVM routes for vector {@code vector} of the current mode, or null when it has no route. */
    synchronized MsiMessage routedMessage(int vector) {
        return vectors == null ? null : vectors.routedMessage(vector);
    }

    /** Interrupts that went through userspace, by way. */
    Map<UserspaceDelivery, Long> userspaceCounts() {
        return counts.snapshot();
    }

    // ------------------------------------------------------------------------------------------------------ INTx

    private void enterIntx() {
        if (closed || pin == 0 || device.irqInfo(VFIO_PCI_INTX_IRQ_INDEX).count() < 1) {
            mode = InterruptMode.NONE;
            return;
        }
        try {
            intx = IntxLine.open(name, sys, device, ic, loop, intxGsi, counts, guestLog);
            mode = InterruptMode.INTX;
        } catch (RuntimeException e) {
            mode = InterruptMode.NONE;
            guestLog.warn("INTx setup", "INTx setup failed; the function has no legacy interrupt", e);
        }
    }

    // ------------------------------------------------------------------------------------------------------- MSI

    /** The guest changed MSI's enable, address, data or vector count; {@code state} is its programming now. */
    synchronized void msiChanged(MsiState state) {
        if (closed) {
            return;
        }
        try {
            if (state.enabled()) {
                if (mode == InterruptMode.MSIX) {
                    return; // MSI-X wins while enabled; MSI is picked up when MSI-X is disabled
                }
                if (mode == InterruptMode.MSI && vectors.size() == state.enabledVectors()) {
                    for (int i = 0; i < vectors.size(); i++) {
                        reconcileMsi(state, i);
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

    /** The guest changed the per-vector mask bit of MSI vector {@code vector}. */
    synchronized void msiVectorMasked(int vector) {
        if (mode != InterruptMode.MSI || vector >= vectors.size()) {
            return;
        }
        try {
            reconcileMsi(msi.state(), vector);
        } catch (RuntimeException e) {
            guestLog.warn("MSI vector", "applying the guest's mask of MSI vector " + vector + " failed", e);
        }
    }

    private void enterMsi(MsiState state) {
        MsiVectors vs = new MsiVectors(name + " MSI", VFIO_PCI_MSI_IRQ_INDEX, sys, device, ic, loop,
                this::msiFromLoop, guestLog);
        try {
            vs.grow(state.enabledVectors(), i -> reconcileMsi(vs, state, i));
            vectors = vs;
            mode = InterruptMode.MSI;
        } catch (RuntimeException e) {
            guestLog.warn("MSI enable", "enabling " + state.enabledVectors() + " MSI vectors failed; falling back "
                    + "to INTx", e);
            enterIntx();
        }
    }

    private void reconcileMsi(MsiState state, int i) {
        reconcileMsi(vectors, state, i);
    }

    private static void reconcileMsi(MsiVectors vs, MsiState state, int i) {
        if (state.masked(i)) {
            vs.hold(i);
        } else {
            vs.deliver(i, state.message(i));
        }
    }

    /** A signal the kernel did not deliver: the capability sends it, or sets the pending bit of a masked vector. */
    private void msiFromLoop(int vector) {
        MsiCapability cap = msi;
        if (cap != null && !cap.trigger(vector)) {
            counts.count(UserspaceDelivery.MSI_PENDING);
        }
    }

    // ----------------------------------------------------------------------------------------------------- MSI-X

    /** The guest changed MSI-X's enable or function-mask bit. */
    synchronized void msixControlChanged() {
        if (closed) {
            return;
        }
        try {
            boolean enabled = msix.isEnabled();
            if (enabled && mode != InterruptMode.MSIX) {
                leaveCurrent();
                enterMsix();
            } else if (enabled) {
                growMsix(highestDeliverable() + 1);
                for (int i = 0; i < vectors.size(); i++) {
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

    /**
     * The message or mask of MSI-X table entry {@code vector} changed. Another vCPU may have written the entry since
     * and had its change applied first, so the entry is read again here, under this lock: the route ends at the
     * table's value. Unmasking a vector beyond those VFIO has asks VFIO for more.
     */
    synchronized void msixVectorChanged(int vector) {
        if (mode != InterruptMode.MSIX) {
            return;
        }
        try {
            if (vector >= vectors.size() && !msix.isVectorMasked(vector)) {
                growMsix(vector + 1);
            }
            if (vector < vectors.size()) {
                reconcileMsix(vector);
            }
        } catch (RuntimeException e) {
            guestLog.warn("MSI-X vector", "applying the guest's change of MSI-X vector " + vector + " failed", e);
        }
    }

    private void enterMsix() {
        vectors = new MsiVectors(name + " MSI-X", VFIO_PCI_MSIX_IRQ_INDEX, sys, device, ic, loop,
                this::msixFromLoop, guestLog);
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

    /** Gives VFIO vectors 0..n-1 (capped at the table size); a refusal is counted and logged, the mode stays. */
    private void growMsix(int n) {
        int want = Math.min(n, msix.vectors());
        int had = vectors.size();
        if (want <= had) {
            return;
        }
        try {
            vectors.grow(want, this::reconcileMsix);
        } catch (RuntimeException e) {
            setupFailures.incrementAndGet();
            guestLog.warn("MSI-X enable", String.format("VFIO refused MSI-X vectors 0..%d (%s); the guest keeps MSI-X "
                    + "with %d vector(s), the next unmask tries again", want - 1, e.getMessage(), had), null);
        }
    }

    /** Routes vector {@code i} when the guest lets it deliver, holds it back otherwise. */
    private void reconcileMsix(int i) {
        if (msix.isEnabled() && !msix.isFunctionMasked() && !msix.isVectorMasked(i)) {
            vectors.deliver(i, msix.message(i));
        } else {
            vectors.hold(i);
        }
    }

    /** A signal the kernel did not deliver: the capability sends it, or sets the PBA bit of a masked vector. */
    private void msixFromLoop(int vector) {
        MsixCapability cap = msix;
        if (cap != null && !cap.trigger(vector)) {
            counts.count(UserspaceDelivery.MSIX_PENDING);
        }
    }

    // ---------------------------------------------------------------------------------------------------- common

    private void leaveCurrent() {
        IntxLine line = intx;
        MsiVectors vs = vectors;
        intx = null;
        vectors = null;
        mode = InterruptMode.NONE;
        Closer closer = new Closer();
        closer.close(line);
        closer.close(vs);
        closer.rethrow();
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

    /** Disables the current mode in VFIO and releases its irqfds, routes, loop watches and eventfds. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        leaveCurrent();
    }
}
