package org.vfio4j.core.sys;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * A Linux eventfd: the currency of VFIO interrupt triggers, KVM irqfds and ioeventfds. It owns its fd; {@link
 * #close()} is idempotent.
 */
public final class EventFd implements AutoCloseable {
    private static final ThreadLocal<Memory> SCRATCH = ThreadLocal.withInitial(() -> new Memory(8));

    private final FileDescriptor fd;

    private EventFd(FileDescriptor fd) {
        this.fd = fd;
    }

    /** Creates a non-blocking, close-on-exec eventfd with counter 0. */
    public static EventFd create(Syscalls sys, String purpose) {
        int r = sys.eventfd(0, Linux.EFD_CLOEXEC | Linux.EFD_NONBLOCK);
        if (r < 0) {
            throw new SyscallException("eventfd", purpose, null, -r);
        }
        return new EventFd(new FileDescriptor(sys, r, "eventfd " + purpose));
    }

    /** The raw fd, for passing to VFIO_DEVICE_SET_IRQS, KVM_IRQFD or an epoll loop. */
    public int fd() {
        return fd.fd();
    }

    public FileDescriptor descriptor() {
        return fd;
    }

    public String name() {
        return fd.name();
    }

    /** Adds {@code value} to the counter (signals the eventfd). */
    public void signal(long value) {
        Pointer buf = SCRATCH.get();
        buf.setLong(0, value);
        long r = fd.writeRaw(buf, 8);
        if (r != 8) {
            throw new SyscallException("write", fd.name(), null, r < 0 ? (int) -r : Errno.EIO);
        }
    }

    public void signal() {
        signal(1);
    }

    /**
     * Reads and resets the counter. Returns 0 when the counter was already 0 (the fd is non-blocking).
     */
    public long drain() {
        Pointer buf = SCRATCH.get();
        long r = fd.readRaw(buf, 8);
        if (r == -Errno.EAGAIN) {
            return 0;
        }
        if (r != 8) {
            throw new SyscallException("read", fd.name(), null, r < 0 ? (int) -r : Errno.EIO);
        }
        return buf.getLong(0);
    }

    /** Waits up to {@code timeoutMillis} for the counter to become non-zero; true when it did. */
    public boolean await(int timeoutMillis) {
        Memory pfd = new Memory(8);
        pfd.setInt(0, fd.fd());
        pfd.setShort(4, Linux.POLLIN);
        pfd.setShort(6, (short) 0);
        int r = fd.syscalls().poll(pfd, 1, timeoutMillis);
        if (r < 0 && -r != Errno.EINTR) {
            throw new SyscallException("poll", fd.name(), null, -r);
        }
        return r > 0 && (pfd.getShort(6) & Linux.POLLIN) != 0;
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return fd.toString();
    }
}
