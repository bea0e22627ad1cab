package org.vfio4j.core.sys;

import com.sun.jna.Pointer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open file descriptor with a name for error messages (a path such as {@code /dev/vfio/12}, or a description such
 * as {@code "vfio device 0000:00:03.0"}). It owns the fd: {@link #close()} closes it exactly once, and closing again
 * does nothing. Every call that fails throws a {@link SyscallException} naming the call, this descriptor and the errno.
 */
public final class FileDescriptor implements AutoCloseable {
    private final Syscalls sys;
    private final int fd;
    private final String name;
    private final AtomicBoolean closed = new AtomicBoolean();

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

    public boolean isClosed() {
        return closed.get();
    }

    /** ioctl with a pointer argument; returns the (non-negative) result. */
    public int ioctl(Ioctl request, Pointer arg) {
        int r = sys.ioctl(fd, request.number(), arg);
        if (r < 0) {
            throw new SyscallException("ioctl", name, request.name(), -r);
        }
        return r;
    }

    /** ioctl with an integer argument passed by value; returns the (non-negative) result. */
    public int ioctl(Ioctl request, long arg) {
        int r = sys.ioctl(fd, request.number(), arg);
        if (r < 0) {
            throw new SyscallException("ioctl", name, request.name(), -r);
        }
        return r;
    }

    /** ioctl returning {@code -errno} instead of throwing, for callers that branch on specific errnos. */
    public int ioctlRaw(Ioctl request, Pointer arg) {
        return sys.ioctl(fd, request.number(), arg);
    }

    /** ioctl returning {@code -errno} instead of throwing, for callers that branch on specific errnos. */
    public int ioctlRaw(Ioctl request, long arg) {
        return sys.ioctl(fd, request.number(), arg);
    }

    /** Reads exactly {@code count} bytes at {@code offset}; a short read is reported as EIO. */
    public void preadFully(Pointer buf, long count, long offset) {
        long r = sys.pread(fd, buf, count, offset);
        if (r != count) {
            throw new SyscallException("pread", name, null, r < 0 ? (int) -r : Errno.EIO,
                    String.format("offset 0x%x size %d%s", offset, count, r >= 0 ? ", short read " + r : ""));
        }
    }

    /** Writes exactly {@code count} bytes at {@code offset}; a short write is reported as EIO. */
    public void pwriteFully(Pointer buf, long count, long offset) {
        long r = sys.pwrite(fd, buf, count, offset);
        if (r != count) {
            throw new SyscallException("pwrite", name, null, r < 0 ? (int) -r : Errno.EIO,
                    String.format("offset 0x%x size %d%s", offset, count, r >= 0 ? ", short write " + r : ""));
        }
    }

    /** pread returning the count or {@code -errno}, for hot paths that answer failures themselves. */
    public long preadRaw(Pointer buf, long count, long offset) {
        return sys.pread(fd, buf, count, offset);
    }

    /** pwrite returning the count or {@code -errno}, for hot paths that answer failures themselves. */
    public long pwriteRaw(Pointer buf, long count, long offset) {
        return sys.pwrite(fd, buf, count, offset);
    }

    /** Maps {@code length} bytes at {@code offset} of this file, shared. The mapping is owned by the caller. */
    public MemoryMapping mmap(long offset, long length, int prot) {
        return MemoryMapping.map(sys, this, offset, length, prot);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            int r = sys.close(fd);
            if (r < 0 && -r != Errno.EINTR) {
                // The fd is released by the kernel even on error; report, don't retry.
                throw new SyscallException("close", name, null, -r);
            }
        }
    }

    @Override
    public String toString() {
        return name + " (fd " + fd + (closed.get() ? ", closed)" : ")");
    }
}
