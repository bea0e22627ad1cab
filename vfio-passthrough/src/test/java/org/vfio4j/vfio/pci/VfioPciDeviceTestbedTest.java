package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.reset.ResetMethod;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * VfioPciDevice on real vfio-pci (QEMU's edu inside the testbed guest): the KVM-VFIO registration with a real group
 * fd, reset and the state restored after it, and REQ when the host takes the device back by unbinding its driver.
 */
@Tag("testbed")
class VfioPciDeviceTestbedTest {
    static final long BAR0 = 0xe0000000L;
    static final long EDU_ID = 0x010000edL;

    static String eduBdf() {
        return bdf("edu");
    }

    /** The testbed device {@code name}; the test is skipped (not failed) when the guest was booted without it. */
    static String bdf(String name) {
        Optional<String> bdf = TestbedDevices.find(name);
        assumeTrue(bdf.isPresent(), "no testbed device " + name);
        return bdf.get();
    }

    @Test
    void guestFlrOnNvmeResetsTheFunctionAndTheGuestView() throws Exception {
        String bdf = bdf("nvme");
        try (KvmVmm vmm = vm()) {
            PciHostBridge host = new PciHostBridge();
            VfioPciDevice dev = VfioPciDevice.attach(Vfio.host(), vmm, host.rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).build());
            try {
                int pcie = findCap(host, 0x10);
                assumeTrue(pcie != 0, "nvme has no PCIe capability here");
                long devcap = host.rootBus().read(4, 0, pcie + 4, 4);
                assumeTrue((devcap & (1L << 28)) != 0, "nvme does not advertise FLR");
                host.rootBus().write(4, 0, 0x10, 4, BAR0);
                host.rootBus().write(4, 0, 0x14, 4, 0);
                host.rootBus().write(4, 0, 0x04, 2, PCI_COMMAND_MEMORY);
                long version = vmm.mmioBus().read(BAR0 + 8, 4);
                assertNotEquals(0xFFFFFFFFL, version, "NVMe VS register through the trap");
                host.rootBus().write(4, 0, pcie + 8, 2, host.rootBus().read(4, 0, pcie + 8, 2) | 0x8000);
                assertEquals(ResetMethod.DEVICE_RESET, dev.counters().lastReset(), "the guest's FLR reset it");
                assertEquals(0L, host.rootBus().read(4, 0, 0x04, 2) & 0x7, "decode off after FLR");
                assertEquals(0xFFFFFFFFL, vmm.mmioBus().read(BAR0 + 8, 4), "BAR0 no longer decodes");
                host.rootBus().write(4, 0, 0x10, 4, BAR0);
                host.rootBus().write(4, 0, 0x04, 2, PCI_COMMAND_MEMORY);
                assertEquals(version, vmm.mmioBus().read(BAR0 + 8, 4), "reprogrammed, the device answers again");
            } finally {
                dev.detach();
            }
        }
    }

    private static int findCap(PciHostBridge host, int id) {
        int pos = (int) host.rootBus().read(4, 0, 0x34, 1);
        for (int ttl = 0; ttl < 48 && pos >= 0x40; ttl++) {
            if (host.rootBus().read(4, 0, pos, 1) == id) {
                return pos;
            }
            pos = (int) host.rootBus().read(4, 0, pos + 1, 1);
        }
        return 0;
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
                boolean flr = dev.deviceInfo().resettable();
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
    @Tag("testbed-host-unbind")
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
