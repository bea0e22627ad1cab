package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_PLATFORM;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_AUTOMASKED;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_EVENTFD;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_MASKABLE;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_REGION_INFO_FLAG_READ;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_REGION_INFO_FLAG_WRITE;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.platform.DeviceTree;
import org.vfio4j.vfio.platform.DtNode;
import org.vfio4j.vfio.platform.FdtWriter;
import org.vfio4j.vfio.platform.FirmwareDevice;
import org.vfio4j.vfio.platform.PlatformGuestDescription;
import org.vfio4j.vfio.platform.PlatformOptions;
import org.vfio4j.vfio.platform.Trigger;
import org.vfio4j.vfio.platform.VfioPlatformDevice;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * vfio-platform on a real kernel: the testbed on QEMU's microvm ({@code testbed/run --machine microvm --kernel next})
 * bound a virtio-rng transport (ACPI LNRO0005, one 0x200-byte MMIO region and one level interrupt) to vfio-platform
 * in the unsafe no-IOMMU mode, with {@code vfio_platform.reset_required=0}. One test, so the whole check is one boot.
 */
@Tag("testbed")
@Tag("testbed-microvm")
class PlatformDeviceTestbedTest {
    private static final long PLAT_BASE = 0xd000_0000L;
    // Above 15: GSIs 0-15 also reach KVM's 8259 PIC, which nobody programmed (its vector would be an exception).
    private static final int PLAT_GSI = 20;
    private static final long RAM = 16L << 20;

    @Test
    void virtioMmioTransportPassedThroughWithItsLevelInterrupt() throws Exception {
        String name = TestbedDevices.bdf("rng-mmio");
        Vfio vfio = Vfio.host();

        VfioException refused = assertThrows(VfioException.class,
                () -> VfioPlatformDevice.open(vfio, name, PlatformOptions.defaults()));
        assertTrue(refused.getMessage().contains("no IOMMU"), refused.getMessage());

        long[] iomem = iomem(name);
        try (VfioPlatformDevice dev = VfioPlatformDevice.open(vfio, name,
                PlatformOptions.defaults().allowingUnsafeNoIommu())) {
            System.out.println(dev + " " + dev.regions() + " " + dev.irqs() + " " + dev.firmware());
            assertTrue(dev.noIommu());
            assertTrue((dev.device().info().flags() & VFIO_DEVICE_FLAGS_PLATFORM) != 0, dev.device().info()
                    .flagNames().toString());
            assertFalse(dev.amba());

            // Region 0 is the resource /proc/iomem shows: 0x200 bytes, read-write, not mmap-able (not page-aligned).
            assertEquals(1, dev.regions().size());
            assertEquals(iomem[1] - iomem[0] + 1, dev.regions().get(0).size());
            assertEquals(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, dev.regions().get(0).flags());
            assertEquals(0L, dev.regions().get(0).info().offset(), "region 0 at offset 0 << 40");

            // The ACPI _CRS of its firmware node, correlated.
            FirmwareDevice fw = dev.firmware().orElseThrow();
            assertTrue(fw.source().startsWith("ACPI \\_SB_.VR"), fw.source());
            assertEquals(List.of("LNRO0005"), fw.compatible());
            assertEquals(iomem[0], fw.regions().get(0).address());
            assertEquals(1, fw.irqs().size());
            assertEquals(Trigger.LEVEL, fw.irqs().get(0).trigger());

            // A trapped read: the virtio magic "virt" and the device id 4 (entropy source).
            VfioRegion region = dev.device().region(0);
            assertEquals(0x74726976L, region.read(0, 4));
            assertEquals(4L, region.read(8, 4));

            assertEquals(1, dev.irqs().size());
            assertEquals(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
                    dev.irqs().get(0).info().flags());
            assertEquals(1, dev.irqs().get(0).info().count());
            assertEquals(Trigger.LEVEL, dev.irqs().get(0).trigger());

            // No reset: no reset module and no _RST; the kernel bound it only because reset_required=0.
            assertFalse(dev.resettable());
            SyscallException raw = assertThrows(SyscallException.class, () -> dev.device().reset());
            assertEquals(Errno.EINVAL, raw.errno());
            assertThrows(VfioException.class, dev::reset);

            // A flat guest program sees the trapped region and takes the level interrupt three times: first fired
            // by VFIO itself (SET_IRQS with DATA_NONE runs vfio-platform's automasking handler), so a missing unmask
            // would stop the second one for certain; then raised by the device, a virtio-rng request at a time.
            GuestMachine.GuestRun loopback = runGuest(dev, d -> d.device().irqs().fire(0, 0, 1), true);
            assertEquals(0, loopback.value("irq.status1"), "VFIO fired it; the transport has nothing pending");

            try (VirtioRngRing ring = new VirtioRngRing(Syscalls.linux(), dev.device().region(0))) {
                GuestMachine.GuestRun device = runGuest(dev, d -> ring.request(), false);
                assertEquals(1, device.value("irq.status1"), "used-buffer notification: " + device);
                assertEquals(1, device.value("irq.status3"));
                assertEquals(3, ring.used(), "the device filled the three buffers it was offered");
            }
            assertEquals(0, dev.trappedErrors());
        }
        // Everything was released: the device opens again.
        try (VfioPlatformDevice again = VfioPlatformDevice.open(vfio, name,
                PlatformOptions.defaults().allowingUnsafeNoIommu())) {
            assertEquals(1, again.regions().size());
        }
    }

    /**
     * Attaches the device to a new flat machine (region 0 at {@link #PLAT_BASE}, IRQ 0 on GSI {@link #PLAT_GSI}),
     * runs {@code platform_irq} with {@code onRequest} as the VMM's answer to each request, checks what every run
     * must show, and detaches.
     */
    private static GuestMachine.GuestRun runGuest(VfioPlatformDevice dev,
            java.util.function.Consumer<VfioPlatformDevice> onRequest, boolean checkOverlay) throws Exception {
        try (GuestMachine machine = new GuestMachine(Syscalls.linux(), RAM)) {
            PlatformGuestDescription guest = dev.attach(machine.vmm(), new VfioPlatformDevice.Placement(
                    List.of(PLAT_BASE), List.of(PLAT_GSI)));
            try {
                System.out.println(guest);
                assertFalse(guest.regions().get(0).mapped(), "0x200 bytes can't be mmapped: trapped");
                assertEquals(Trigger.LEVEL, guest.irqs().get(0).trigger());
                machine.onRequest(b -> onRequest.accept(dev));
                machine.load(GuestImage.build("platform_irq", Map.of("PLAT_BASE", PLAT_BASE,
                        "PLAT_GSI", (long) PLAT_GSI)));
                GuestMachine.GuestRun run = machine.run(Duration.ofMinutes(3));
                machine.stop();
                System.out.println(run);
                assertTrue(run.succeeded(), run.toString());
                assertEquals(0x74726976L, run.value("magic"));
                assertEquals(4L, run.value("device"));
                assertEquals(1, run.value("irq.count1"), run.toString());
                assertEquals(2, run.value("irq.count2"), "fired again after the first EOI: resample unmasked it");
                assertEquals(3, run.value("irq.count3"));
                if (checkOverlay) {
                    // The guest description as a device-tree node, read back.
                    byte[] dtbo = FdtWriter.overlay(guest, "virtio", FdtWriter.InterruptCells.TWO, 0x8001);
                    DtNode node = DeviceTree.parse(dtbo).node("/fragment@0/__overlay__/virtio@d0000000")
                            .orElseThrow();
                    assertEquals(List.of("LNRO0005"), node.strings("compatible"));
                    assertEquals(List.of(0, (int) PLAT_BASE, 0, 0x200), java.util.Arrays.stream(node.cells("reg")
                            .orElseThrow()).boxed().toList());
                    assertEquals(List.of(PLAT_GSI, 4), java.util.Arrays.stream(node.cells("interrupts")
                            .orElseThrow()).boxed().toList(), "GSI, level high");
                }
                return run;
            } finally {
                dev.detach();
            }
        }
    }

    /** The first and last address /proc/iomem gives the device's resource. */
    private static long[] iomem(String name) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/iomem"))) {
            String t = line.trim();
            if (t.endsWith(": " + name)) {
                String[] range = t.substring(0, t.indexOf(' ')).split("-");
                return new long[] {Long.parseLong(range[0], 16), Long.parseLong(range[1], 16)};
            }
        }
        throw new AssertionError("/proc/iomem has no resource of " + name);
    }
}
