package org.vfio4j.core.sys;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * {@link Syscalls} over glibc, bound with JNA direct mapping ({@code Native.register}). Interface mapping measured
 * 2-4x slower per call on these machines, and the trapped-access path calls pread/pwrite once per guest access.
 *
 * <p>errno is read only when a call fails: the natives are declared without {@code LastErrorException} (whose
 * dispatch clears errno before every call and builds an exception for every failure, among them KVM_RUN's EINTR),
 * and a result of -1 is turned into {@code -errno} with {@link Native#getLastError()}, which JNA keeps per thread
 * after every direct call. The hot-path calls ({@link #ioctl(int, long, long)}, {@link #pread(int, long, long, long)},
 * {@link #pwrite(int, long, long, long)}) take only primitives, so a call allocates nothing.
 */
final class LinuxSyscalls implements Syscalls {

    static final LinuxSyscalls INSTANCE = new LinuxSyscalls();

    private LinuxSyscalls() {
    }

    /** The libc symbols, direct-mapped. Each returns -1 on failure with errno set, as libc does. */
    private static final class Libc {
        static {
            Native.register(Libc.class, NativeLibrary.getInstance("c"));
        }

        static native int open(String path, int flags, int mode);

        static native int close(int fd);

        // ioctl is variadic in C; on x86-64 SysV a fixed third integer or pointer argument travels the same way.
        static native int ioctl(int fd, long request, Pointer arg);

        static native int ioctl(int fd, long request, long arg);

        static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

        static native int munmap(long addr, long length);

        static native long pread(int fd, Pointer buf, long count, long offset);

        // The buffer as an address: on x86-64 SysV a pointer and a long travel in the same register.
        static native long pread(int fd, long buf, long count, long offset);

        static native long pwrite(int fd, Pointer buf, long count, long offset);

        static native long pwrite(int fd, long buf, long count, long offset);

        static native int eventfd(int initval, int flags);

        static native long read(int fd, Pointer buf, long count);

        static native long write(int fd, Pointer buf, long count);

        static native int poll(Pointer fds, long nfds, int timeout);

        static native int gettid();

        static native int getpid();

        static native int tgkill(int tgid, int tid, int sig);

        static native int sigaction(int sig, Pointer act, Pointer oldact);
    }

    /** libc's -1 with errno set becomes {@code -errno}; any other result is returned as it is. */
    private static int result(int r) {
        return r == -1 ? -Native.getLastError() : r;
    }

    private static long result(long r) {
        return r == -1 ? -Native.getLastError() : r;
    }

    @Override
    public int open(String path, int flags) {
        return result(Libc.open(path, flags, 0));
    }

    @Override
    public int close(int fd) {
        return result(Libc.close(fd));
    }

    @Override
    public int ioctl(int fd, long request, Pointer arg) {
        return result(Libc.ioctl(fd, request, arg));
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        return result(Libc.ioctl(fd, request, arg));
    }

    @Override
    public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        return result(Libc.mmap(addr, length, prot, flags, fd, offset));
    }

    @Override
    public int munmap(long addr, long length) {
        return result(Libc.munmap(addr, length));
    }

    @Override
    public long pread(int fd, Pointer buf, long count, long offset) {
        return result(Libc.pread(fd, buf, count, offset));
    }

    @Override
    public long pread(int fd, long address, long count, long offset) {
        return result(Libc.pread(fd, address, count, offset));
    }

    @Override
    public long pwrite(int fd, Pointer buf, long count, long offset) {
        return result(Libc.pwrite(fd, buf, count, offset));
    }

    @Override
    public long pwrite(int fd, long address, long count, long offset) {
        return result(Libc.pwrite(fd, address, count, offset));
    }

    @Override
    public int eventfd(int initialValue, int flags) {
        return result(Libc.eventfd(initialValue, flags));
    }

    @Override
    public long read(int fd, Pointer buf, long count) {
        return result(Libc.read(fd, buf, count));
    }

    @Override
    public long write(int fd, Pointer buf, long count) {
        return result(Libc.write(fd, buf, count));
    }

    @Override
    public int poll(Pointer fds, int nfds, int timeoutMillis) {
        return result(Libc.poll(fds, nfds, timeoutMillis));
    }

    @Override
    public int gettid() {
        return Libc.gettid();
    }

    @Override
    public int getpid() {
        return Libc.getpid();
    }

    @Override
    public int tgkill(int tgid, int tid, int signal) {
        return result(Libc.tgkill(tgid, tid, signal));
    }

    @Override
    public int sigaction(int signal, Pointer action, Pointer oldAction) {
        return result(Libc.sigaction(signal, action, oldAction));
    }
}
