package org.vfio4j.vfio.platform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_AMBA;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_PLATFORM;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_RESET;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_AUTOMASKED;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_EVENTFD;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_MASKABLE;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.testing.FakeRegion;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;

/**
 * {@link VfioPlatformDevice} on the fake VFIO kernel, for what the testbed's kernel can't produce: an AMBA device
 * (QEMU virt's PL011, correlated with the real QEMU tree) with a reset module, a device with a page-aligned mmap-able
 * region next to a small trapped one and an edge next to a level interrupt, mismatches with the firmware, and the
 * no-IOMMU refusal. The VM is a real KVM VM (its memslots, MMIO bus and irqfds).
 */
class VfioPlatformDeviceTest {
    private static final int LEVEL = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    private static final int READ = FakeVfioDevice.READ;
    private static final int WRITE = FakeVfioDevice.WRITE;
    private static final int MMAP = FakeVfioDevice.MMAP;

    @TempDir
    Path tmp;

    private final FakeVfioKernel kernel = new FakeVfioKernel();
    private KvmVmm vmm;

    @AfterEach
    void closeVm() {
        if (vmm != null) {
            vmm.close();
        }
    }

    private FakeSysfs virtTree() throws Exception {
        FakeSysfs sysfs = new FakeSysfs(tmp.resolve("root"));
        sysfs.deviceTree(DeviceTree.parse(Tools.qemuDtb(tmp, "virt")).root());
        return sysfs;
    }

    /** QEMU virt's PL011 as vfio-amba shows it: 4 KiB mmap-able, one level interrupt, a reset module. */
    private FakeVfioDevice pl011(long size, int irqFlags) {
        FakeVfioDevice d = new FakeVfioDevice("9000000.pl011").flags(VFIO_DEVICE_FLAGS_AMBA | VFIO_DEVICE_FLAGS_RESET);
        d.region(0, size, READ | WRITE | MMAP);
        d.irq(0, irqFlags, 1);
        return d;
    }

    @Test
    void anAmbaDeviceCorrelatesWithItsNodeAndResetsThroughItsModule() throws Exception {
        FakeSysfs sysfs = virtTree().platformDevice("amba", "9000000.pl011", 5, "vfio-amba")
                .ofNode("9000000.pl011", "/pl011@9000000");
        FakeVfioDevice fake = pl011(0x1000, LEVEL);
        kernel.addDevice(5, fake);
        try (VfioPlatformDevice dev = VfioPlatformDevice.open(new Vfio(kernel, sysfs.sysfs()), "9000000.pl011",
                PlatformOptions.defaults())) {
            assertTrue(dev.amba());
            assertFalse(dev.noIommu());
            assertEquals("device tree /pl011@9000000", dev.firmware().orElseThrow().source());
            assertTrue(dev.regions().get(0).mmappable());
            assertEquals(Trigger.LEVEL, dev.irqs().get(0).trigger());
            assertTrue(dev.resettable());
            dev.reset();
            assertEquals(1, fake.resets());
        }
        assertEquals(0, kernel.openFakeFds());
    }

    @Test
    void aMismatchWithTheTreeNamesTheNodeAndTheIndex() throws Exception {
        FakeSysfs sysfs = virtTree().platformDevice("amba", "9000000.pl011", 5, "vfio-amba")
                .ofNode("9000000.pl011", "/pl011@9000000");
        kernel.addDevice(5, pl011(0x2000, LEVEL));
        Vfio vfio = new Vfio(kernel, sysfs.sysfs());
        FirmwareMismatchException size = assertThrows(FirmwareMismatchException.class,
                () -> VfioPlatformDevice.open(vfio, "9000000.pl011", PlatformOptions.defaults()));
        assertTrue(size.getMessage().contains("/pl011@9000000") && size.getMessage().contains("region 0 is 0x1000"),
                size.getMessage());
        assertEquals(0, kernel.openFakeFds(), "everything opened was closed again");
        try (VfioPlatformDevice unchecked = VfioPlatformDevice.open(vfio, "9000000.pl011",
                PlatformOptions.defaults().withoutFirmwareCheck())) {
            assertEquals(0x2000, unchecked.regions().get(0).size());
        }
    }

    @Test
    void anEdgeInterruptWhereTheTreeSaysLevelIsRefused() throws Exception {
        FakeSysfs sysfs = virtTree().platformDevice("amba", "9000000.pl011", 5, "vfio-amba")
                .ofNode("9000000.pl011", "/pl011@9000000");
        kernel.addDevice(5, pl011(0x1000, VFIO_IRQ_INFO_EVENTFD));
        FirmwareMismatchException e = assertThrows(FirmwareMismatchException.class, () -> VfioPlatformDevice.open(
                new Vfio(kernel, sysfs.sysfs()), "9000000.pl011", PlatformOptions.defaults()));
        assertTrue(e.getMessage().contains("/pl011@9000000") && e.getMessage().contains("IRQ 0 is level"),
                e.getMessage());
    }

    @Test
    void twoRegionsOneMappedOneTrappedAndAnEdgeNextToALevelInterrupt() throws Exception {
        FakeSysfs sysfs = new FakeSysfs(tmp).platformDevice("platform", "fe000000.dma", 3, "vfio-platform");
        FakeVfioDevice fake = new FakeVfioDevice("fe000000.dma").flags(VFIO_DEVICE_FLAGS_PLATFORM);
        fake.region(0, 0x2000, READ | WRITE | MMAP);
        FakeRegion regs = fake.region(1, 0x40, READ);
        regs.buffer().putInt(0x10, 0xfeedf00d);
        fake.irq(0, VFIO_IRQ_INFO_EVENTFD, 1).irq(1, LEVEL, 1);
        kernel.addDevice(3, fake);
        vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
        try (VfioPlatformDevice dev = VfioPlatformDevice.open(new Vfio(kernel, sysfs.sysfs()), "fe000000.dma",
                PlatformOptions.defaults())) {
            assertTrue(dev.firmware().isEmpty());
            assertFalse(dev.resettable());
            assertThrows(VfioException.class, dev::reset);
            assertEquals(0, fake.resets(), "refused before asking the kernel");

            PlatformGuestDescription g = dev.attach(vmm, new VfioPlatformDevice.Placement(
                    List.of(0xd000_0000L, 0xd000_4000L), List.of(40, 41)));
            assertEquals(List.of(new GuestRegion(0, 0xd000_0000L, 0x2000, true, false),
                    new GuestRegion(1, 0xd000_4000L, 0x40, false, true)), g.regions());
            assertEquals(List.of(new GuestIrq(0, 40, Trigger.EDGE), new GuestIrq(1, 41, Trigger.LEVEL)), g.irqs());
            assertEquals(1, kernel.liveMmaps());

            // The trapped region answers through the device fd; a write to the read-only region is dropped.
            assertEquals(0xfeedf00dL, vmm.mmioBus().read(0xd000_4010L, 4));
            vmm.mmioBus().write(0xd000_4010L, 4, 0);
            assertEquals(0xfeedf00d, regs.buffer().getInt(0x10));

            // Eventfds on both IRQs; only the level one has VFIO's unmask eventfd (the resample fd).
            assertTrue(fake.triggers(0)[0] >= 0 && fake.triggers(1)[0] >= 0);
            assertEquals(-1, fake.unmaskFd(0));
            assertTrue(fake.unmaskFd(1) >= 0);
            // The level line masks itself when it fires and fires no more until the unmask eventfd is signalled.
            assertTrue(kernel.raise(fake, 1, 0));
            assertFalse(kernel.raise(fake, 1, 0));
            assertTrue(kernel.unmaskEventfdSignalled(fake, 1));
            assertTrue(kernel.raise(fake, 1, 0));
            assertTrue(kernel.raise(fake, 0, 0));
            assertTrue(kernel.raise(fake, 0, 0), "an edge interrupt is never masked");

            dev.detach();
            assertEquals(0, kernel.liveMmaps());
            assertArrayEquals(new int[0], fake.triggers(0) == null ? new int[0] : fake.triggers(0));
            assertEquals(-1, fake.unmaskFd(1));
            assertEquals(0xffffffffL, vmm.mmioBus().read(0xd000_4010L, 4), "the trap is gone");
        }
        assertEquals(0, kernel.openFakeFds());
    }

    @Test
    void aDeviceWithoutAnIommuIsOpenedOnlyWhenAskedFor() throws Exception {
        FakeSysfs sysfs = new FakeSysfs(tmp).platformDevice("platform", "LNRO0005:02", 0, "vfio-platform")
                .noIommuGroup(0);
        FakeVfioDevice fake = new FakeVfioDevice("LNRO0005:02").flags(VFIO_DEVICE_FLAGS_PLATFORM);
        fake.region(0, 0x200, READ | WRITE);
        fake.irq(0, LEVEL, 1);
        kernel.addDevice(0, fake).noIommuGroup(0);
        Vfio vfio = new Vfio(kernel, sysfs.sysfs());
        VfioException e = assertThrows(VfioException.class,
                () -> VfioPlatformDevice.open(vfio, "LNRO0005:02", PlatformOptions.defaults()));
        assertTrue(e.getMessage().contains("no IOMMU") && e.getMessage().contains("any host memory"),
                e.getMessage());
        assertEquals(0, kernel.ioctlCount("VFIO_SET_IOMMU"), "refused before anything was opened");
        try (VfioPlatformDevice dev = VfioPlatformDevice.open(vfio, "LNRO0005:02",
                PlatformOptions.defaults().allowingUnsafeNoIommu())) {
            assertTrue(dev.noIommu());
            assertEquals(1, kernel.ioctlCount("VFIO_SET_IOMMU"));
            assertTrue(dev.toString().contains("no IOMMU"));
        }
    }

    @Test
    void aDeviceNotBoundToVfioPlatformIsRefused() {
        FakeSysfs sysfs = new FakeSysfs(tmp).platformDevice("platform", "LNRO0005:00", 0, "virtio-mmio");
        VfioException e = assertThrows(VfioException.class, () -> VfioPlatformDevice.open(
                new Vfio(kernel, sysfs.sysfs()), "LNRO0005:00", PlatformOptions.defaults()));
        assertTrue(e.getMessage().contains("bound to virtio-mmio"), e.getMessage());
    }
}
