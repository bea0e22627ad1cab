package org.vfio4j.core.sys;

/**
 * A system call failed. The message names the call, what it acted on (a path, a device, an fd), the ioctl when there
 * is one, and the errno by name, for example {@code ioctl(VFIO_GROUP_SET_CONTAINER) on /dev/vfio/12: EBUSY (16)}.
 */
public class SyscallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final String target;
    private final String request;
    private final int errno;

    /**
     * @param call the system call, e.g. {@code "ioctl"} or {@code "pread"}
     * @param target what it acted on: a path, a device name, or {@code "fd N"}
     * @param request the ioctl name, or {@code null} for calls that have none
     * @param errno the positive errno
     * @param detail extra context (offset, size, region), or {@code null}
     */
    public SyscallException(String call, String target, String request, int errno, String detail) {
        super(format(call, target, request, errno, detail));
        this.call = call;
        this.target = target;
        this.request = request;
        this.errno = errno;
    }

    public SyscallException(String call, String target, String request, int errno) {
        this(call, target, request, errno, null);
    }

    private static String format(String call, String target, String request, int errno, String detail) {
        StringBuilder sb = new StringBuilder(call);
        if (request != null) {
            sb.append('(').append(request).append(')');
        }
        sb.append(" on ").append(target);
        if (detail != null) {
            sb.append(" [").append(detail).append(']');
        }
        sb.append(": ").append(Errno.name(errno)).append(" (").append(errno).append(')');
        return sb.toString();
    }

    /** The system call that failed, e.g. {@code "ioctl"}. */
    public String call() {
        return call;
    }

    /** What the call acted on. */
    public String target() {
        return target;
    }

    /** The ioctl's name, or {@code null}. */
    public String request() {
        return request;
    }

    /** The positive errno. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, e.g. {@code "EINVAL"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
