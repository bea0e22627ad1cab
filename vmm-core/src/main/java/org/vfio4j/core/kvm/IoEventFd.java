package org.vfio4j.core.kvm;

import java.util.concurrent.atomic.AtomicBoolean;
import org.vfio4j.core.sys.EventFd;

/** A KVM ioeventfd registration. {@link #close()} deassigns it once; the eventfd stays open. */
public final class IoEventFd implements AutoCloseable {
    private final KvmVm vm;
    private final EventFd eventFd;
    private final long address;
    private final int length;
    private final int flags;
    private final long datamatch;
    private final AtomicBoolean closed = new AtomicBoolean();

    IoEventFd(KvmVm vm, EventFd eventFd, long address, int length, int flags, long datamatch) {
        this.vm = vm;
        this.eventFd = eventFd;
        this.address = address;
        this.length = length;
        this.flags = flags;
        this.datamatch = datamatch;
    }

    /** The eventfd KVM signals. */
    public EventFd eventFd() {
        return eventFd;
    }

    /** Guest-physical address or port. */
    public long address() {
        return address;
    }

    /** Access width in bytes (1, 2, 4 or 8; 0 matches any width). */
    public int length() {
        return length;
    }

    /** True for port I/O, false for MMIO. */
    public boolean pio() {
        return (flags & KvmAbi.KVM_IOEVENTFD_FLAG_PIO) != 0;
    }

    /** The value a write must carry, when {@link KvmAbi#KVM_IOEVENTFD_FLAG_DATAMATCH} is set. */
    public long datamatch() {
        return datamatch;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                if (!vm.fd().isClosed() && !eventFd.descriptor().isClosed()) {
                    vm.ioeventfdIoctl(this, flags | KvmAbi.KVM_IOEVENTFD_FLAG_DEASSIGN);
                }
            } finally {
                vm.forget(this);
            }
        }
    }

    @Override
    public String toString() {
        return String.format("ioeventfd %s %s 0x%x len %d%s", eventFd.name(), pio() ? "port" : "mmio", address, length,
                (flags & KvmAbi.KVM_IOEVENTFD_FLAG_DATAMATCH) != 0 ? String.format(" datamatch 0x%x", datamatch) : "");
    }
}
