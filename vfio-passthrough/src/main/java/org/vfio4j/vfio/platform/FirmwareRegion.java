package org.vfio4j.vfio.platform;

/**
 * One memory or I/O-port resource of a device as its firmware describes it, in the order vfio-platform numbers its
 * regions: the device tree's {@code reg} entries (translated to CPU addresses), or the memory and I/O resources of
 * the ACPI {@code _CRS}.
 *
 * @param index the region index it corresponds to
 * @param address the CPU (host-physical) address, or the port for I/O
 * @param size its length in bytes
 * @param io an I/O-port resource (ACPI only)
 * @param readOnly the firmware marks it read-only (an ACPI memory descriptor without write access)
 */
public record FirmwareRegion(int index, long address, long size, boolean io, boolean readOnly) {
    @Override
    public String toString() {
        return String.format("%s %d: 0x%x+0x%x%s", io ? "io" : "mem", index, address, size, readOnly ? " ro" : "");
    }
}
