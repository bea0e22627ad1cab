package org.vfio4j.refvmm.linux.boot;

/**
 * Why a Linux guest cannot be booted as configured: a file that is not a usable bzImage, or a kernel, initrd or
 * command line that does not fit the guest. Thrown before the VM starts; the message names the file or the limit.
 */
public final class LinuxBootException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A refusal with its reason. */
    public LinuxBootException(String message) {
        super(message);
    }

    /** A refusal caused by an I/O error. */
    public LinuxBootException(String message, Throwable cause) {
        super(message, cause);
    }
}
