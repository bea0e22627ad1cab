package org.vfio4j.vfio.testing;

import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.vfio4j.core.sys.Syscalls;

/**
 * A {@link Syscalls} decorator that fails calls on purpose: the k-th call counted since {@link #arm} (every call
 * counts: open, close, ioctl, mmap, munmap, pread, pwrite, eventfd, read, write, poll), or every ioctl with a given
 * request number. A failure answers {@code -errno} as the kernel would, or throws an {@link Error} (what a JNA
 * {@code UnsatisfiedLinkError} or an {@code OutOfMemoryError} does to the caller). {@code close} is counted but
 * never failed with an errno: Linux releases the fd even when close reports an error, and the decorator must not
 * invent a leak the kernel can't produce; an Error thrown from close is still injected after the close was done.
 */
public final class FaultySyscalls implements Syscalls {
    private final Syscalls delegate;
    private volatile long failAt = -1;
    private volatile int errno;
    private volatile Supplier<? extends Error> error;
    private volatile IoctlFault ioctlFault;
    private long calls;
    private final List<String> failed = new ArrayList<>();

    public FaultySyscalls(Syscalls delegate) {
        this.delegate = delegate;
    }

    /** Fails the {@code k}-th call from now (1-based) with {@code -errno}; calls are counted from 0 again. */
    public synchronized FaultySyscalls arm(long k, int errno) {
        this.calls = 0;
        this.failAt = k;
        this.errno = errno;
        this.error = null;
        return this;
    }

    /** Throws {@code error} from the {@code k}-th call from now (1-based). */
    public synchronized FaultySyscalls armError(long k, Supplier<? extends Error> error) {
        this.calls = 0;
        this.failAt = k;
        this.error = error;
        return this;
    }

    /** Counts calls from 0 again, failing none. */
    public synchronized FaultySyscalls disarm() {
        this.calls = 0;
        this.failAt = -1;
        return this;
    }

    /** Decides per ioctl (pointer argument) whether it fails: the errno to answer, or 0 to let it through. */
    @FunctionalInterface
    public interface IoctlFault {
        int errno(int fd, long request, Pointer arg);
    }

    /** Consults {@code fault} before every pointer ioctl (it may also just observe); null removes it. */
    public FaultySyscalls ioctlFault(IoctlFault fault) {
        this.ioctlFault = fault;
        return this;
    }

    /** Calls counted since the last {@link #arm}/{@link #disarm}. */
    public synchronized long calls() {
        return calls;
    }

    /** The calls failed so far, as "name#k". */
    public synchronized List<String> failed() {
        return List.copyOf(failed);
    }

    /** 0 to let the call through; otherwise the errno to answer. Throws when an Error is due. */
    private int check(String call, boolean errnoAllowed) {
        Supplier<? extends Error> e;
        synchronized (this) {
            calls++;
            if (calls != failAt) {
                return 0;
            }
            failed.add(call + "#" + calls);
            e = error;
            if (e == null && !errnoAllowed) {
                return 0;
            }
        }
        if (e != null) {
            throw e.get();
        }
        return errno;
    }

    @Override
    public int open(String path, int flags) {
        int f = check("open", true);
        return f != 0 ? -f : delegate.open(path, flags);
    }

    @Override
    public int close(int fd) {
        int r = delegate.close(fd);
        check("close", false);
        return r;
    }

    @Override
    public int ioctl(int fd, long request, Pointer arg) {
        IoctlFault fault = ioctlFault;
        int e = fault == null ? 0 : fault.errno(fd, request, arg);
        if (e != 0) {
            return -e;
        }
        int f = check("ioctl", true);
        return f != 0 ? -f : delegate.ioctl(fd, request, arg);
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        int f = check("ioctl", true);
        return f != 0 ? -f : delegate.ioctl(fd, request, arg);
    }

    @Override
    public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        int f = check("mmap", true);
        return f != 0 ? -f : delegate.mmap(addr, length, prot, flags, fd, offset);
    }

    @Override
    public int munmap(long addr, long length) {
        int r = delegate.munmap(addr, length);
        check("munmap", false); // like close: the kernel unmapped; only an Error is injected
        return r;
    }

    @Override
    public long pread(int fd, Pointer buf, long count, long offset) {
        int f = check("pread", true);
        return f != 0 ? -f : delegate.pread(fd, buf, count, offset);
    }

    @Override
    public long pwrite(int fd, Pointer buf, long count, long offset) {
        int f = check("pwrite", true);
        return f != 0 ? -f : delegate.pwrite(fd, buf, count, offset);
    }

    @Override
    public int eventfd(int initialValue, int flags) {
        int f = check("eventfd", true);
        return f != 0 ? -f : delegate.eventfd(initialValue, flags);
    }

    @Override
    public long read(int fd, Pointer buf, long count) {
        int f = check("read", true);
        return f != 0 ? -f : delegate.read(fd, buf, count);
    }

    @Override
    public long write(int fd, Pointer buf, long count) {
        int f = check("write", true);
        return f != 0 ? -f : delegate.write(fd, buf, count);
    }

    @Override
    public int poll(Pointer fds, int nfds, int timeoutMillis) {
        int f = check("poll", true);
        return f != 0 ? -f : delegate.poll(fds, nfds, timeoutMillis);
    }

    @Override
    public int gettid() {
        return delegate.gettid();
    }

    @Override
    public int getpid() {
        return delegate.getpid();
    }

    @Override
    public int tgkill(int tgid, int tid, int signal) {
        return delegate.tgkill(tgid, tid, signal);
    }

    @Override
    public int sigaction(int signal, Pointer action, Pointer oldAction) {
        return delegate.sigaction(signal, action, oldAction);
    }
}
