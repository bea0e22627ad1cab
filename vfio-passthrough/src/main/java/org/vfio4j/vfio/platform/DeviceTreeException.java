package org.vfio4j.vfio.platform;

import org.vfio4j.vfio.errors.VfioException;

/** A device tree (or an ACPI table) that can't be read or doesn't describe a device consistently. */
public class DeviceTreeException extends VfioException {
    private static final long serialVersionUID = 1L;

    /** With a message that names the node (or table) and what is wrong. */
    public DeviceTreeException(String message) {
        super(message);
    }
}
