package org.vfio4j.core;

import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

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

    /**
     * Releases a device at once on REQ and stops the guest on an uncorrectable error, as QEMU does: a function that
     * reported one may go on DMAing garbage into guest RAM, and a guest that keeps running on it may corrupt its
     * data. {@code stopGuest} gets the reason; it must not block (the call comes from an event loop). This is what
     * {@link Vmm#deviceEvents()} gives by default; {@link #RELEASE_AT_ONCE} is the choice to keep running.
     */
    static DeviceEvents stopOnError(Consumer<String> stopGuest) {
        return new DeviceEvents() {
            @Override
            public void unplugRequested(String device, Runnable release) {
                release.run();
            }

            @Override
            public void deviceError(String device, String detail) {
                String reason = device + ": " + detail;
                try {
                    stopGuest.accept(reason);
                } catch (UnsupportedOperationException e) {
                    LoggerFactory.getLogger(DeviceEvents.class).error(
                            "{}; the VMM cannot stop the guest ({}), it keeps running", reason, e.getMessage());
                }
            }
        };
    }

    /** Releases a device at once on REQ and ignores errors: for a VMM that chose to keep the guest running. */
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
