package org.vfio4j.core.event;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;

/**
 * The userspace fallback for a VMM without kernel irqfds: {@link #irqFd} watches the trigger eventfd on the
 * {@link EventLoop} and injects the interrupt itself through the wrapped controller's {@code signalMsi} or
 * {@code setIrqLine}. Everything else is passed through.
 *
 * <p>GSIs of MSI routes made through this controller are delivered with {@code signalMsi} (the route's current
 * message); any other GSI is treated as a legacy line. Userspace cannot see the guest's EOI, so a level-triggered
 * line (given a {@code resample} eventfd) is pulsed (asserted, then deasserted) and {@code resample} is signalled at
 * once: VFIO then unmasks INTx, and if the device still asserts it the trigger fires again. The guest may see an
 * extra interrupt, never a lost one.
 */
public final class LoopInterruptController implements InterruptController {
    private final InterruptController delegate;
    private final EventLoop loop;
    private final Map<Integer, MsiRoute> msiRoutes = new ConcurrentHashMap<>();

    /** Wraps {@code delegate}, delivering eventfd triggers from {@code loop}. */
    public LoopInterruptController(InterruptController delegate, EventLoop loop) {
        this.delegate = delegate;
        this.loop = loop;
    }

    @Override
    public void signalMsi(MsiMessage message) {
        delegate.signalMsi(message);
    }

    @Override
    public MsiRoute addMsiRoute(MsiMessage message) {
        MsiRoute route = delegate.addMsiRoute(message);
        msiRoutes.put(route.gsi(), route);
        return new MsiRoute() {
            @Override
            public int gsi() {
                return route.gsi();
            }

            @Override
            public MsiMessage message() {
                return route.message();
            }

            @Override
            public void update(MsiMessage m) {
                route.update(m);
            }

            @Override
            public void close() {
                msiRoutes.remove(route.gsi(), route);
                route.close();
            }
        };
    }

    @Override
    public void setIrqLine(int gsi, boolean level) {
        delegate.setIrqLine(gsi, level);
    }

    /** False: delivery passes through userspace (the event loop). */
    @Override
    public boolean hasKernelIrqFd() {
        return false;
    }

    @Override
    public IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample) {
        EventLoop.Registration reg = loop.register(trigger, count -> deliver(gsi, resample));
        return new IrqFdBinding() {
            @Override
            public int gsi() {
                return gsi;
            }

            @Override
            public void close() {
                reg.close();
            }
        };
    }

    private void deliver(int gsi, EventFd resample) {
        MsiRoute route = msiRoutes.get(gsi);
        if (route != null) {
            delegate.signalMsi(route.message());
            return;
        }
        delegate.setIrqLine(gsi, true);
        delegate.setIrqLine(gsi, false);
        if (resample != null) {
            resample.signal();
        }
    }
}
