package org.vfio4j.core.kvm;

import java.util.concurrent.atomic.AtomicBoolean;
import org.vfio4j.core.sys.EventFd;

/** A KVM irqfd binding (eventfd to GSI). {@link #close()} deassigns it once; the eventfd stays open. */
public final class IrqFd implements AutoCloseable {
    private final KvmVm vm;
    private final EventFd trigger;
    private final int gsi;
    private final AtomicBoolean closed = new AtomicBoolean();

    IrqFd(KvmVm vm, EventFd trigger, int gsi) {
        this.vm = vm;
        this.trigger = trigger;
        this.gsi = gsi;
    }

    /** The GSI the trigger raises. */
    public int gsi() {
        return gsi;
    }

    /** The trigger eventfd. */
    public EventFd trigger() {
        return trigger;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                if (!vm.fd().isClosed() && !trigger.descriptor().isClosed()) {
                    vm.irqfdIoctl(trigger.fd(), gsi, KvmAbi.KVM_IRQFD_FLAG_DEASSIGN, 0, trigger.name());
                }
            } finally {
                vm.forget(this);
            }
        }
    }

    @Override
    public String toString() {
        return "irqfd " + trigger.name() + " -> gsi " + gsi;
    }
}
