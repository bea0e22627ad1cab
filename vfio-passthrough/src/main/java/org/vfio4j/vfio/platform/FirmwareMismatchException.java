package org.vfio4j.vfio.platform;

import org.vfio4j.vfio.errors.VfioException;

/** What VFIO reports about a platform device disagrees with its device-tree node or ACPI resources. */
public final class FirmwareMismatchException extends VfioException {
    private static final long serialVersionUID = 1L;

    /** With a message naming the firmware node and the region or IRQ index. */
    public FirmwareMismatchException(String message) {
        super(message);
    }
}
