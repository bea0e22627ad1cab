package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;

/**
 * VfioPciDevice on real vfio-pci (QEMU's edu inside the testbed guest): the KVM-VFIO registration with a real group
 * fd, reset and the state restored after it, and REQ when the host takes the device back by unbinding its driver.
 */
@Tag("testbed")
class VfioPciDeviceTestbedTest {
    static final long BAR0 = 0xe0000000L;
    static final long EDU_ID = 0x010000edL;

    static String eduBdf() throws IOException {
        Path devices = Path.of("/tmp/testbed-devices");
        assumeTrue(Files.exists(devices), "not in the testbed");
        for (String line : Files.readAllLines(devices)) {
            if (line.startsWith("edu=")) {
                return line.substring(4).trim();
            }
        }
        fail("edu is not among the testbed devices: " + Files.readAllLines(devices));
        return null;
    }

    private static KvmVmm vm() {
        KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
        vmm.guestMemory().addRam(0, 4 << 20, "low");
        return vmm;
    }

    private static void enableBar0(PciHostBridge host) {
        host.rootBus().write(4, 0, 0x10, 4, BAR0);
        host.rootBus().write(4, 0, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    }

    @Test
    void resetKeepsTheDeviceReachableAndKvmVfioLetsTheGroupGo() throws Exception {
        String bdf = eduBdf();
        Vfio vfio = Vfio.host();
        try (KvmVmm vmm = vm()) {
            PciHostBridge host = new PciHostBridge();
            VfioPciDevice dev = VfioPciDevice.attach(vfio, vmm, host.rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).build());
            try {
                enableBar0(host);
                assertEquals(EDU_ID, vmm.mmioBus().read(BAR0, 4), "id through the BAR trap handler (pread)");
                ResetMethod m = dev.reset();
                boolean flr = dev.stack().device().info().resettable();
                assertEquals(flr ? ResetMethod.DEVICE_RESET : m, m, "VFIO_DEVICE_RESET whenever offered");
                System.out.println("edu reset method: " + m + " (device reset flag " + flr + ")");
                assertEquals(EDU_ID, vmm.mmioBus().read(BAR0, 4),
                        "memory decode restored in the device after " + m + " (vfio-pci refuses BAR access without)");
                assertEquals(m, dev.counters().lastReset());
            } finally {
                dev.detach();
            }
            // The group was unregistered from KVM and closed: it can be opened again at once.
            VfioPciDevice again = VfioPciDevice.attach(vfio, vmm, host.rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).build());
            again.detach();
        }
    }

    @Test
    void closingTheVmBeforeTheDeviceStillFreesTheGroup() throws Exception {
        String bdf = eduBdf();
        Vfio vfio = Vfio.host();
        KvmVmm vmm = vm();
        VfioPciDevice dev;
        try {
            dev = VfioPciDevice.attach(vfio, vmm, new PciHostBridge().rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).build());
        } finally {
            vmm.close();
        }
        dev.detach();
        try (KvmVmm second = vm()) {
            VfioPciDevice d = VfioPciDevice.attach(vfio, second, new PciHostBridge().rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).build());
            d.detach();
        }
    }

    @Test
    void hostUnbindRaisesReqAndTheDeviceIsReleased() throws Exception {
        String bdf = eduBdf();
        Path sys = Path.of("/sys/bus/pci/devices", bdf);
        CountDownLatch unplug = new CountDownLatch(1);
        try (KvmVmm vmm = vm()) {
            VfioPciDevice dev = VfioPciDevice.attach(Vfio.host(), vmm, new PciHostBridge().rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).events(new DeviceEvents() {
                        @Override
                        public void unplugRequested(String device, Runnable release) {
                            unplug.countDown();
                            release.run();
                        }

                        @Override
                        public void deviceError(String device, String detail) {
                        }
                    }).build());
            // vfio-pci's remove waits for the user to release the device, signalling REQ meanwhile.
            Thread unbind = new Thread(() -> {
                try {
                    Files.writeString(sys.resolve("driver/unbind"), bdf);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, "unbind " + bdf);
            unbind.start();
            try {
                assertTrue(unplug.await(60, TimeUnit.SECONDS), "REQ reached the VMM's unplug hook");
                unbind.join(TimeUnit.SECONDS.toMillis(60));
                assertFalse(unbind.isAlive(), "the unbind completed once the device was released");
                assertFalse(dev.isAttached());
                assertEquals(1, dev.counters().unplugRequests());
            } finally {
                dev.detach();
                unbind.join(TimeUnit.SECONDS.toMillis(60));
                // driver_override is still vfio-pci: a probe binds it back for the tests that follow.
                Files.writeString(Path.of("/sys/bus/pci/drivers_probe"), bdf);
            }
            assertEquals("vfio-pci", Files.readSymbolicLink(sys.resolve("driver")).getFileName().toString());
        }
    }
}
