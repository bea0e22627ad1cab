package org.vfio4j.vfio.errors;

/**
 * A VFIO operation was refused or could not be done, for a reason this library detected itself (a non-viable group, a
 * DMA mapping over a reserved IOVA hole, a hot reset without every affected group, an access outside a region).
 * Failures of a system call are {@link org.vfio4j.core.sys.SyscallException}s instead, naming the ioctl and errno.
 * The message always names the device, group or region concerned.
 */
public class VfioException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** With a message naming the device, group or region. */
    public VfioException(String message) {
        super(message);
    }

    /** With a message and the underlying failure. */
    public VfioException(String message, Throwable cause) {
        super(message, cause);
    }
}
