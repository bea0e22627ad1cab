package org.vfio4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.refvmm.flat.QemuGuestRunner;

/**
 * The QMP client of the bench's attach row against this host's real QEMU and /dev/kvm: an emulated device hot-plugs
 * and is timed; a refused one (vfio-pci of a device that is not there) surfaces QEMU's error.
 */
class QmpHotplugTest {
    /** A BIOS image that only halts (QEMU never runs it: the VM stays paused). */
    private static final byte[] IMAGE = halting();

    @BeforeEach
    void needQemuAndKvm() {
        assumeTrue(Kvm.available(), "/dev/kvm");
        assumeTrue(QemuGuestRunner.available(), "qemu-system-x86_64");
    }

    @Test
    void anEmulatedDeviceIsPluggedAndTimed() throws Exception {
        Duration took = QmpHotplug.deviceAdd(IMAGE, 16, "edu", "");
        assertTrue(took.toNanos() > 0, took.toString());
    }

    @Test
    void qemusRefusalIsReported() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> QmpHotplug.attach(IMAGE, 16, "0000:7f:1f.7"));
        assertTrue(e.getMessage().contains("\"error\""), e.getMessage());
        assertTrue(e.getMessage().contains("vfio-pci"), e.getMessage());
    }

    private static byte[] halting() {
        byte[] b = new byte[64 * 1024];
        b[b.length - 16] = (byte) 0xf4; // hlt at the reset vector
        return b;
    }
}
