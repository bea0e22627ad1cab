package org.vfio4j.core;

/**
 * What a device tells the VMM about itself outside guest accesses: the host wants it back (VFIO's REQ interrupt),
 * or it reported an error (AER, VFIO's ERR interrupt). Called on an event-loop thread; implementations must not
 * block for long.
 */
public interface DeviceEvents {

    /**
     * The host asks for {@code device} back (e.g. its driver is being unbound). The VMM should unplug it from the
     * guest (e.g. an ACPI/PCIe hot-unplug request) and then call {@code release}, which detaches the device and
     * frees every host resource it holds. Calling {@code release} more than once is harmless.
     */
    void unplugRequested(String device, Runnable release);

    /**
     * {@code device} signalled an uncorrectable error ({@code detail} says which interrupt or register told). The
     * VMM may stop the guest, inject an error into it, or just log it.
     */
    void deviceError(String device, String detail);

    /** Releases a device at once on REQ and ignores errors: for a VMM without hotplug. */
    DeviceEvents RELEASE_AT_ONCE = new DeviceEvents() {
        @Override
        public void unplugRequested(String device, Runnable release) {
            release.run();
        }

        @Override
        public void deviceError(String device, String detail) {
        }
    };
}
