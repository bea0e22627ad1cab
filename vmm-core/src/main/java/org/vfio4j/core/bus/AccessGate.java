package org.vfio4j.core.bus;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Counts the guest accesses inside an emulated object, so whoever releases what those accesses use (a device fd) can
 * first turn new ones away and then wait for those already inside.
 *
 * <p>A vCPU finds its handler without a lock (the trap bus and the PCI bus publish lock-free tables), so an access
 * can still be on its way into a handler when the owner removes it from the bus. The gate closes that window:
 * {@link #enter} after the close fails, and {@link #close} returns once every access that did enter has left.
 *
 * <pre>{@code
 * if (!gate.enter()) {
 *     return TrapHandler.allOnes(size); // released: the hardware's answer
 * }
 * try {
 *     return device.read(offset, size);
 * } finally {
 *     gate.exit();
 * }
 * }</pre>
 */
public final class AccessGate {
    /** How long {@link #close} waits for accesses inside before it gives up (a handler stuck in the kernel). */
    public static final long CLOSE_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private final AtomicInteger inside = new AtomicInteger();
    private volatile boolean closed;

    /** Counts an access in; false when the gate is closed (the caller answers as if nothing were there). */
    public boolean enter() {
        inside.incrementAndGet();
        if (closed) {
            inside.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Counts an access out; once for every {@link #enter} that returned true. */
    public void exit() {
        inside.decrementAndGet();
    }

    /** True once {@link #close} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Accesses inside now. */
    public int inside() {
        return inside.get();
    }

    /**
     * Turns new accesses away and waits, at most {@link #CLOSE_LIMIT_NANOS}, for those inside to leave. Called on a
     * vCPU thread in the middle of a guest access (the guest's own access releases the object) it does not wait:
     * that vCPU may hold a lock another vCPU inside is waiting for, or be inside itself. Idempotent.
     *
     * @return true when nothing is inside any more; false when the limit passed or the caller could not wait
     */
    public boolean close() {
        closed = true;
        if (inside.get() == 0) {
            return true;
        }
        if (TrapBus.insideDispatch()) {
            return false;
        }
        long deadline = System.nanoTime() + CLOSE_LIMIT_NANOS;
        while (inside.get() > 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(50_000);
        }
        return true;
    }
}
