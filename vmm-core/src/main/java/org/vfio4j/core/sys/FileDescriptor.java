package org.vfio4j.core.sys;

import com.sun.jna.Pointer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An open file descriptor with a name for error messages (a path such as {@code /dev/vfio/12}, or a description such
 * as {@code "vfio device 0000:00:03.0"}). It owns the fd: {@link #close()} closes it exactly once, and closing again
 * does nothing. Every call that fails throws a {@link SyscallException} naming the call, this descriptor and the errno.
 *
 * <p><b>After close.</b> The kernel hands a closed fd's number to the next open, eventfd or ioctl that creates one,
 * maybe another VM's. So no call reaches the kernel once {@link #close()} was called: each answers {@code EBADF}
 * (thrown, or returned as {@code -EBADF} by the raw variants), as the kernel would for a number nobody reused. A
 * call already running when {@link #close()} is called finishes on the file it started on: the number is closed
 * when the last such call returns, never under it.
 */
public final class FileDescriptor implements AutoCloseable {
    private final Syscalls sys;
    private final int fd;
    private final String name;
    /** Bit 62: closed; below it, the calls in flight. */
    private final AtomicLong state = new AtomicLong();
    private static final long CLOSED = 1L << 62;

    /** Takes ownership of an fd that is already open. */
    public FileDescriptor(Syscalls sys, int fd, String name) {
        if (fd < 0) {
            throw new IllegalArgumentException("not an fd: " + fd + " (" + name + ")");
        }
        this.sys = sys;
        this.fd = fd;
        this.name = name;
    }

    /** Opens {@code path} with {@code flags} ({@link Linux#O_RDWR} and so on; O_CLOEXEC is always added). */
    public static FileDescriptor open(Syscalls sys, String path, int flags) {
        int r = sys.open(path, flags | Linux.O_CLOEXEC);
        if (r < 0) {
            throw new SyscallException("open", path, null, -r);
        }
        return new FileDescriptor(sys, r, path);
    }

    /** The raw fd number; valid until {@link #close()}. */
    public int fd() {
        return fd;
    }

    /** The name used in error messages. */
    public String name() {
        return name;
    }

    /** The seam this descriptor calls through. */
    public Syscalls syscalls() {
        return sys;
    }

    /** True once {@link #close()} was called (the number itself may stay open until calls in flight return). */
    public boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** Counts a call in; false when closed (the caller must then answer EBADF without a system call). */
    private boolean enter() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s + 1)) {
                return true;
            }
        }
    }

    /** Counts a call out; the last one out after {@link #close()} closes the number. */
    private void exit() {
        if (state.decrementAndGet() == CLOSED) {
            sys.close(fd); // deferred close: the kernel releases the number even on error; nobody to tell
        }
    }

    /** ioctl with a pointer argument; returns the (non-negative) result. */
    public int ioctl(Ioctl request, Pointer arg) {
        int r = ioctlRaw(request, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", name, request.name(), -r);
        }
        return r;
    }

    /** ioctl with an integer argument passed by value; returns the (non-negative) result. */
    public int ioctl(Ioctl request, long arg) {
        int r = ioctlRaw(request, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", name, request.name(), -r);
        }
        return r;
    }

    /** ioctl returning {@code -errno} instead of throwing, for callers that branch on specific errnos. */
    public int ioctlRaw(Ioctl request, Pointer arg) {
        if (!enter()) {
            return -Errno.EBADF;
        }
        try {
            return sys.ioctl(fd, request.number(), arg);
        } finally {
            exit();
        }
    }

    /** ioctl returning {@code -errno} instead of throwing, for callers that branch on specific errnos. */
    public int ioctlRaw(Ioctl request, long arg) {
        if (!enter()) {
            return -Errno.EBADF;
        }
        try {
            return sys.ioctl(fd, request.number(), arg);
        } finally {
            exit();
        }
    }

    /** read(2) returning the count or {@code -errno}. */
    public long readRaw(Pointer buf, long count) {
        if (!enter()) {
            return -Errno.EBADF;
        }
        try {
            return sys.read(fd, buf, count);
        } finally {
            exit();
        }
    }

    /** write(2) returning the count or {@code -errno}. */
    public long writeRaw(Pointer buf, long count) {
        if (!enter()) {
            return -Errno.EBADF;
        }
        try {
            return sys.write(fd, buf, count);
        } finally {
            exit();
        }
    }

    /** Reads exactly {@code count} bytes at {@code offset}; a short read is reported as EIO. */
    public void preadFully(Pointer buf, long count, long offset) {
        long r = preadRaw(buf, count, offset);
        if (r != count) {
            throw new SyscallException("pread", name, null, r < 0 ? (int) -r : Errno.EIO,
                    String.format("offset 0x%x size %d%s", offset, count, r >= 0 ? ", short read " + r : ""));
        }
    }

    /** Writes exactly {@code count} bytes at {@code offset}; a short write is reported as EIO. */
    public void pwriteFully(Pointer buf, long count, long offset) {
        long r = pwriteRaw(buf, count, offset);
        if (r != count) {
            throw new SyscallException("pwrite", name, null, r < 0 ? (int) -r : Errno.EIO,
                    String.format("offset 0x%x size %d%s", offset, count, r >= 0 ? ", short write " + r : ""));
        }
    }

    /** pread returning the count or {@code -errno}, for hot paths that answer failures themselves. */
    public long preadRaw(Pointer buf, long count, long offset) {
        if (!enter()) {
            return -Errno.EBADF;
        }
        try {
            return sys.pread(fd, buf, count, offset);
        } finally {
            exit();
        }
    }

    /** pwrite returning the count or {@code -errno}, for hot paths that answer failures themselves. */
    public long pwriteRaw(Pointer buf, long count, long offset) {
        if (!enter()) {
            return -Errno.EBADF;
        }
        try {
            return sys.pwrite(fd, buf, count, offset);
        } finally {
            exit();
        }
    }

    /** Maps {@code length} bytes at {@code offset} of this file, shared. The mapping is owned by the caller. */
    public MemoryMapping mmap(long offset, long length, int prot) {
        if (!enter()) {
            throw new SyscallException("mmap", name, null, Errno.EBADF);
        }
        try {
            return MemoryMapping.map(sys, this, offset, length, prot);
        } finally {
            exit();
        }
    }

    /**
     * Closes the descriptor for every later call; the number itself is closed now, or when the last call in flight
     * returns. Idempotent.
     */
    @Override
    public void close() {
        long s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
        } while (!state.compareAndSet(s, s | CLOSED));
        if (s != 0) {
            return; // the last call in flight closes it
        }
        int r = sys.close(fd);
        if (r < 0 && -r != Errno.EINTR) {
            // The fd is released by the kernel even on error; report, don't retry.
            throw new SyscallException("close", name, null, -r);
        }
    }

    @Override
    public String toString() {
        return name + " (fd " + fd + (isClosed() ? ", closed)" : ")");
    }
}
