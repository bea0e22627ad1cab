package org.vfio4j.core.kvm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;

/**
 * Interrupts over KVM's in-kernel irqchip. GSIs 0-23 are the legacy lines (PIC and IOAPIC); MSI routes get GSIs
 * from 24 up. Every route change rewrites the whole table with KVM_SET_GSI_ROUTING (KVM has no per-entry update).
 * irqFd uses KVM_IRQFD, so delivery never passes through userspace.
 */
public final class KvmInterruptController implements InterruptController {
    /** The first GSI handed out for MSI routes; below it are the irqchip pins. */
    public static final int FIRST_MSI_GSI = 24;
    /** KVM_MAX_IRQ_ROUTES on x86 (not exported to the uAPI header). */
    public static final int MAX_ROUTES = 4096;

    private final KvmVm vm;
    private final TreeMap<Integer, MsiMessage> msiRoutes = new TreeMap<>();

    /** Needs {@link KvmVm#createIrqchip()} done. */
    public KvmInterruptController(KvmVm vm) {
        if (!vm.hasIrqchip()) {
            throw new IllegalStateException(vm + " has no in-kernel irqchip; call createIrqchip() first");
        }
        this.vm = vm;
    }

    @Override
    public void signalMsi(MsiMessage message) {
        vm.signalMsi(message.address(), message.data());
    }

    @Override
    public synchronized MsiRoute addMsiRoute(MsiMessage message) {
        int gsi = FIRST_MSI_GSI;
        for (int used : msiRoutes.keySet()) {
            if (used != gsi) {
                break;
            }
            gsi++;
        }
        if (gsi >= MAX_ROUTES) {
            throw new IllegalStateException("no free GSI for " + message + ": all " + MAX_ROUTES + " in use");
        }
        msiRoutes.put(gsi, message);
        try {
            pushTable();
        } catch (RuntimeException e) {
            msiRoutes.remove(gsi);
            throw e;
        }
        return new Route(gsi);
    }

    /** The table as KVM has it now: irqchip pins, then the MSI routes. */
    public synchronized List<GsiRoute> routingTable() {
        List<GsiRoute> table = new ArrayList<>(KvmVm.defaultIrqchipRoutes());
        for (Map.Entry<Integer, MsiMessage> e : msiRoutes.entrySet()) {
            table.add(new GsiRoute.Msi(e.getKey(), e.getValue().address(), e.getValue().data()));
        }
        return table;
    }

    private void pushTable() {
        vm.setGsiRouting(routingTable());
    }

    @Override
    public void setIrqLine(int gsi, boolean level) {
        vm.irqLine(gsi, level);
    }

    @Override
    public boolean hasKernelIrqFd() {
        return true;
    }

    @Override
    public IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample) {
        IrqFd fd = vm.irqfd(trigger, gsi, resample);
        return new IrqFdBinding() {
            @Override
            public int gsi() {
                return gsi;
            }

            @Override
            public void close() {
                fd.close();
            }
        };
    }

    /** An MSI route's GSI; closing removes the entry and rewrites the table. */
    private final class Route implements MsiRoute {
        private final int gsi;
        private boolean closed;

        Route(int gsi) {
            this.gsi = gsi;
        }

        @Override
        public int gsi() {
            return gsi;
        }

        @Override
        public MsiMessage message() {
            synchronized (KvmInterruptController.this) {
                return msiRoutes.get(gsi);
            }
        }

        @Override
        public void update(MsiMessage message) {
            synchronized (KvmInterruptController.this) {
                if (closed) {
                    throw new IllegalStateException("MSI route gsi " + gsi + " is closed");
                }
                MsiMessage old = msiRoutes.put(gsi, message);
                try {
                    pushTable();
                } catch (RuntimeException e) {
                    msiRoutes.put(gsi, old);
                    throw e;
                }
            }
        }

        @Override
        public void close() {
            synchronized (KvmInterruptController.this) {
                if (closed) {
                    return;
                }
                closed = true;
                msiRoutes.remove(gsi);
                if (vm.isOpen()) {
                    pushTable();
                }
            }
        }
    }
}
