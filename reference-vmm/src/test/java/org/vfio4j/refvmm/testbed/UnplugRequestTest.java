package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * The host takes a device back: unbinding edu from vfio-pci while vfio4j has it attached makes the kernel signal
 * VFIO's REQ interrupt and block the unbind until the device is let go. The VMM's unplug hook must be called with
 * the device's name, and releasing from it must detach the device so the unbind completes. The device is bound to
 * vfio-pci again afterwards (the testbed set its driver_override), so later tests still have it.
 */
@Tag("testbed")
@Tag("testbed-host-unbind")
class UnplugRequestTest {
    private static final long RAM = 4L << 20;

    @Test
    void unbindingFromTheHostCallsTheUnplugHookAndReleaseLetsTheUnbindFinish() throws Exception {
        String bdf = TestbedDevices.bdf("edu");
        Path device = Path.of("/sys/bus/pci/devices", bdf);
        assertEquals("vfio-pci", driver(device));
        CompletableFuture<String> asked = new CompletableFuture<>();
        DeviceEvents events = new DeviceEvents() {
            @Override
            public void unplugRequested(String name, Runnable release) {
                asked.complete(name);
                release.run();
            }

            @Override
            public void deviceError(String name, String detail) {
            }
        };
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            VfioPciDevice d = VfioPciDevice.attach(Vfio.host(), m.vmm(), m.pciBus(),
                    VfioPciOptions.builder(bdf).slot(PassthroughSession.SLOT).events(events).build());
            AtomicReference<Exception> unbindFailure = new AtomicReference<>();
            Thread unbind = new Thread(() -> {
                try {
                    Files.writeString(device.resolve("driver/unbind"), bdf);
                } catch (IOException e) {
                    unbindFailure.set(e);
                }
            }, "unbind " + bdf);
            try {
                unbind.start();
                // Hang guards, not timings: the kernel relays the request at once and again every 10 s.
                assertEquals(d.name(), asked.get(2, TimeUnit.MINUTES), "the unplug hook names the device");
                unbind.join(TimeUnit.MINUTES.toMillis(2));
                assertFalse(unbind.isAlive(), "the unbind still waits: the device was not released");
                assertNull(unbindFailure.get());
                assertNull(driver(device), "unbound from vfio-pci");
                assertFalse(d.isAttached(), "release detached the device");
                assertNull(m.pciBus().function(PassthroughSession.SLOT, 0), "and took it off the guest bus");
            } finally {
                d.detach();
                unbind.join(TimeUnit.MINUTES.toMillis(2));
                if (driver(device) == null) {
                    Files.writeString(Path.of("/sys/bus/pci/drivers_probe"), bdf);
                }
            }
        }
        assertEquals("vfio-pci", driver(device), "bound to vfio-pci again for the other tests");
    }

    private static String driver(Path device) throws IOException {
        Path link = device.resolve("driver");
        return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
    }
}
