package org.vfio4j.core.sys;

import com.sun.jna.Pointer;

/**
 * The one seam every system call of vfio4j goes through.
 *
 * <p>Each method returns what the system call returns on success and {@code -errno} on failure; none of them throws
 * for an errno. Callers normally use the owners ({@link FileDescriptor}, {@link MemoryMapping}, {@link EventFd}),
 * which turn a negative result into a {@link SyscallException} naming the call, the target and the errno. Tests can
 * install their own implementation to produce what a kernel cannot be made to produce (EIO, an ENOSPC loop, a
 * malformed capability chain); such a fake must answer byte for byte as the uAPI specifies.
 */
public interface Syscalls {

    /** {@code open(2)} with mode 0. Returns the fd or {@code -errno}. */
    int open(String path, int flags);

    /** {@code close(2)}. Returns 0 or {@code -errno}. */
    int close(int fd);

    /** {@code ioctl(2)} with a pointer argument (a struct or a scalar the kernel writes through). */
    int ioctl(int fd, long request, Pointer arg);

    /** {@code ioctl(2)} with an integer argument passed by value. */
    int ioctl(int fd, long request, long arg);

    /** {@code mmap(2)}. Returns the address or {@code -errno}. */
    long mmap(long addr, long length, int prot, int flags, int fd, long offset);

    /** {@code munmap(2)}. Returns 0 or {@code -errno}. */
    int munmap(long addr, long length);

    /** {@code pread(2)}. Returns the byte count or {@code -errno}. */
    long pread(int fd, Pointer buf, long count, long offset);

    /** {@code pwrite(2)}. Returns the byte count or {@code -errno}. */
    long pwrite(int fd, Pointer buf, long count, long offset);

    /**
     * {@code pread(2)} into native memory given by its address (a per-thread scratch buffer, a mapped page), for the
     * trapped-access path: with only primitive arguments the call allocates nothing. Returns the byte count or
     * {@code -errno}. The default wraps the address in a {@link Pointer} for implementations that only have the
     * pointer form (test fakes).
     */
    default long pread(int fd, long address, long count, long offset) {
        return pread(fd, new Pointer(address), count, offset);
    }

    /** {@code pwrite(2)} from native memory given by its address; as {@link #pread(int, long, long, long)}. */
    default long pwrite(int fd, long address, long count, long offset) {
        return pwrite(fd, new Pointer(address), count, offset);
    }

    /** {@code eventfd(2)}. Returns the fd or {@code -errno}. */
    int eventfd(int initialValue, int flags);

    /** {@code read(2)}. Returns the byte count or {@code -errno}. */
    long read(int fd, Pointer buf, long count);

    /** {@code write(2)}. Returns the byte count or {@code -errno}. */
    long write(int fd, Pointer buf, long count);

    /** {@code poll(2)} over an array of {@code struct pollfd}. Returns the ready count or {@code -errno}. */
    int poll(Pointer fds, int nfds, int timeoutMillis);

    /** {@code gettid(2)}: the calling thread's kernel id, for {@link #tgkill}. Fakes without threads answer ENOSYS. */
    default int gettid() {
        return -Errno.ENOSYS;
    }

    /** {@code getpid(2)}. */
    default int getpid() {
        return -Errno.ENOSYS;
    }

    /**
     * {@code tgkill(2)}: sends {@code signal} to one thread. KVM uses it to kick a vCPU thread out of KVM_RUN.
     * Returns 0 or {@code -errno}.
     */
    default int tgkill(int tgid, int tid, int signal) {
        return -Errno.ENOSYS;
    }

    /**
     * {@code sigaction(2)} over glibc's {@code struct sigaction} (x86-64: handler at 0, mask at 8, flags at 136,
     * restorer at 144, 152 bytes). {@code oldAction} may be null. Returns 0 or {@code -errno}.
     */
    default int sigaction(int signal, Pointer action, Pointer oldAction) {
        return -Errno.ENOSYS;
    }

    /** The real implementation: libc through JNA direct mapping. */
    static Syscalls linux() {
        return LinuxSyscalls.INSTANCE;
    }
}
