package org.vfio4j.core.sys;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * {@link Syscalls} over glibc, bound with JNA direct mapping ({@code Native.register}). Interface mapping measured
 * 2-4x slower per call on these machines, and the trapped-access path calls pread/pwrite once per guest access.
 */
final class LinuxSyscalls implements Syscalls {

    static final LinuxSyscalls INSTANCE = new LinuxSyscalls();

    private LinuxSyscalls() {
    }

    /** The libc symbols, direct-mapped. {@code LastErrorException} carries errno out of the call. */
    private static final class Libc {
        static {
            Native.register(Libc.class, NativeLibrary.getInstance("c"));
        }

        static native int open(String path, int flags, int mode) throws LastErrorException;

        static native int close(int fd) throws LastErrorException;

        // ioctl is variadic in C; on x86-64 SysV a fixed third integer or pointer argument travels the same way.
        static native int ioctl(int fd, long request, Pointer arg) throws LastErrorException;

        static native int ioctl(int fd, long request, long arg) throws LastErrorException;

        static native long mmap(long addr, long length, int prot, int flags, int fd, long offset)
                throws LastErrorException;

        static native int munmap(long addr, long length) throws LastErrorException;

        static native long pread(int fd, Pointer buf, long count, long offset) throws LastErrorException;

        static native long pwrite(int fd, Pointer buf, long count, long offset) throws LastErrorException;

        static native int eventfd(int initval, int flags) throws LastErrorException;

        static native long read(int fd, Pointer buf, long count) throws LastErrorException;

        static native long write(int fd, Pointer buf, long count) throws LastErrorException;

        static native int poll(Pointer fds, long nfds, int timeout) throws LastErrorException;

        static native int gettid();

        static native int getpid();

        static native int tgkill(int tgid, int tid, int sig) throws LastErrorException;

        static native int sigaction(int sig, Pointer act, Pointer oldact) throws LastErrorException;
    }

    @Override
    public int open(String path, int flags) {
        try {
            return Libc.open(path, flags, 0);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int close(int fd) {
        try {
            return Libc.close(fd);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int ioctl(int fd, long request, Pointer arg) {
        try {
            return Libc.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int ioctl(int fd, long request, long arg) {
        try {
            return Libc.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        try {
            return Libc.mmap(addr, length, prot, flags, fd, offset);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int munmap(long addr, long length) {
        try {
            return Libc.munmap(addr, length);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long pread(int fd, Pointer buf, long count, long offset) {
        try {
            return Libc.pread(fd, buf, count, offset);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long pwrite(int fd, Pointer buf, long count, long offset) {
        try {
            return Libc.pwrite(fd, buf, count, offset);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int eventfd(int initialValue, int flags) {
        try {
            return Libc.eventfd(initialValue, flags);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long read(int fd, Pointer buf, long count) {
        try {
            return Libc.read(fd, buf, count);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public long write(int fd, Pointer buf, long count) {
        try {
            return Libc.write(fd, buf, count);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int poll(Pointer fds, int nfds, int timeoutMillis) {
        try {
            return Libc.poll(fds, nfds, timeoutMillis);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
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
        try {
            return Libc.tgkill(tgid, tid, signal);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }

    @Override
    public int sigaction(int signal, Pointer action, Pointer oldAction) {
        try {
            return Libc.sigaction(signal, action, oldAction);
        } catch (LastErrorException e) {
            return -e.getErrorCode();
        }
    }
}
