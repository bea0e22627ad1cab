package org.vfio4j.pci.config;

/**
 * The read-only identification registers of a function.
 *
 * @param vendorId          vendor ID (0xFFFF is invalid: it is what an empty slot reads)
 * @param deviceId          device ID
 * @param classCode         24-bit class code: base class, sub-class, programming interface
 * @param revision          revision ID
 * @param subsystemVendorId subsystem vendor ID (type 0 header only)
 * @param subsystemId       subsystem ID (type 0 header only)
 */
public record PciIdentity(int vendorId, int deviceId, int classCode, int revision, int subsystemVendorId,
                          int subsystemId) {

    /** Validates the field widths. */
    public PciIdentity {
        check("vendorId", vendorId, 0xFFFE);
        check("deviceId", deviceId, 0xFFFF);
        check("classCode", classCode, 0xFF_FFFF);
        check("revision", revision, 0xFF);
        check("subsystemVendorId", subsystemVendorId, 0xFFFF);
        check("subsystemId", subsystemId, 0xFFFF);
    }

    /** An identity without subsystem ids. */
    public static PciIdentity of(int vendorId, int deviceId, int classCode, int revision) {
        return new PciIdentity(vendorId, deviceId, classCode, revision, 0, 0);
    }

    private static void check(String field, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(field + " 0x" + Integer.toHexString(value) + " out of range");
        }
    }
}
