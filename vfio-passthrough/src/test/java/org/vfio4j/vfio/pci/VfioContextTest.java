package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.VfioContext;
import org.vfio4j.vfio.errors.HotResetRefusedException;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.ResetMethod;
import org.vfio4j.vfio.testing.FakeRegion;
import org.vfio4j.vfio.testing.FakeVfioDevice;

/**
 * One VFIO context shared by two functions of one IOMMU group (the rig's NIC at 03:00.0 and a second function at
 * 03:00.1, both in group 12), on the fake kernel (which, like the real one, lets a group be opened once) and a real
 * KVM VM: the group is opened and registered once, guest RAM is DMA-mapped once, a hot reset covers and restores
 * both, and the group and mapping live until the last function leaves. The same on the real kernel:
 * {@code refvmm.testbed.SharedGroupTestbedTest}.
 */
class VfioContextTest {
    static final String SECOND = "0000:03:00.1";
    @TempDir
    Path tmp;
    PassthroughRig rig;
    FakeVfioDevice second;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private VfioContext context(boolean functionReset) {
        rig = new PassthroughRig(tmp, r -> {
            if (!functionReset) {
                r.device.flags(VFIO_DEVICE_FLAGS_PCI);
            }
        });
        second = new FakeVfioDevice(SECOND);
        if (!functionReset) {
            second.flags(VFIO_DEVICE_FLAGS_PCI);
        }
        FakeRegion cfg = second.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x100, READ | WRITE);
        cfg.buffer().order(ByteOrder.LITTLE_ENDIAN).putShort(0x00, (short) 0x1234).putShort(0x02, (short) 0x11e8)
                .putInt(0x08, 0x00ff0010).put(0x3D, (byte) 1);
        second.region(VFIO_PCI_BAR0_REGION_INDEX, 0x1000, READ | WRITE);
        cfg.buffer().putInt(0x10, 0);
        second.irq(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE
                | VFIO_IRQ_INFO_AUTOMASKED, 1);
        rig.kernel.addDevice(PassthroughRig.GROUP, second);
        rig.sysfs.pciDevice(SECOND, PassthroughRig.GROUP, "vfio-pci");
        List<DependentDevice> bus = List.of(new DependentDevice(PassthroughRig.GROUP, 0, 3, 0),
                new DependentDevice(PassthroughRig.GROUP, 0, 3, 1));
        rig.device.hotResetDevices(bus);
        second.hotResetDevices(bus);
        return VfioContext.create(rig.vfio, rig.vmm, VfioBackend.LEGACY_CONTAINER, null);
    }

    private VfioPciDevice attach(VfioContext ctx, String bdf, int slot) {
        return VfioPciDevice.attach(ctx, rig.host.rootBus(), VfioPciOptions.builder(bdf).slot(slot).build());
    }

    @Test
    void bothFunctionsOfOneGroupShareTheGroupAndOneMappingOfGuestRam() {
        try (VfioContext ctx = context(true)) {
            VfioPciDevice a = attach(ctx, PassthroughRig.BDF, 4);
            int mappingsOne = rig.kernel.liveDmaMappings();
            assertTrue(mappingsOne > 0);
            VfioPciDevice b = attach(ctx, SECOND, 5);
            assertEquals(1, rig.kernel.ioctlCount("VFIO_GROUP_SET_CONTAINER"), "the group joined the container once");
            assertEquals(mappingsOne, rig.kernel.liveDmaMappings(), "guest RAM mapped once for both");
            assertEquals(List.of("add vfio group " + PassthroughRig.GROUP), rig.vmm.groupEvents);
            assertEquals(2 << 20, a.counters().dmaMappedBytes());
            assertEquals(2 << 20, b.counters().dmaMappedBytes());
            assertEquals(0x11e8, rig.host.rootBus().read(5, 0, 2, 2), "the second function answers on the bus");

            a.detach();
            assertTrue(b.isAttached());
            assertEquals(mappingsOne, rig.kernel.liveDmaMappings(), "the mapping stays for the function left");
            assertEquals(List.of("add vfio group " + PassthroughRig.GROUP), rig.vmm.groupEvents, "group kept");
            assertEquals(0x11e8, rig.host.rootBus().read(5, 0, 2, 2));
            b.detach();
            assertEquals(0, rig.kernel.liveDmaMappings(), "the last one out unmaps guest RAM");
            assertEquals(List.of("add vfio group " + PassthroughRig.GROUP, "del vfio group " + PassthroughRig.GROUP),
                    rig.vmm.groupEvents);
            assertEquals(List.of(), ctx.members());
            assertEquals(1, rig.kernel.openFakeFds(), "only the container is left, until the context closes");
        }
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void aFunctionCannotBeAttachedTwiceToOneVm() {
        try (VfioContext ctx = context(true)) {
            attach(ctx, PassthroughRig.BDF, 4);
            RuntimeException e = assertThrows(RuntimeException.class, () -> attach(ctx, PassthroughRig.BDF, 6));
            assertTrue(e.getMessage().contains("already attached"), e.getMessage());
            assertNull(rig.host.rootBus().function(6, 0));
        }
        assertEquals(0, rig.kernel.openFakeFds(), "closing the context detached the device");
        assertNull(rig.host.rootBus().function(4, 0));
    }

    @Test
    void hotResetCoversBothFunctionsAndRestoresEach() {
        try (VfioContext ctx = context(false)) {
            VfioPciDevice a = attach(ctx, PassthroughRig.BDF, 4);
            VfioPciDevice b = attach(ctx, SECOND, 5);
            rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY);
            rig.cfgWrite(PassthroughRig.MSIX_CAP + 2, 2, PCI_MSIX_FLAGS_ENABLE);
            assertEquals(InterruptMode.MSIX, a.interruptMode());
            assertEquals(InterruptMode.INTX, b.interruptMode());
            int logStart = rig.kernel.ioctlLog().size();

            List<VfioContext.Member> covered = ctx.hotReset(ctx.member(PassthroughRig.BDF).orElseThrow());
            assertEquals(List.of(PassthroughRig.BDF, SECOND), covered.stream().map(VfioContext.Member::name).toList());
            assertEquals(1, rig.device.hotResets());
            assertEquals(0, second.hotResets(), "one reset of the bus, through the first function");
            List<String> log = rig.kernel.ioctlLog().subList(logStart, rig.kernel.ioctlLog().size());
            int at = log.indexOf("VFIO_DEVICE_PCI_HOT_RESET");
            assertEquals(2, log.subList(0, at).stream().filter("VFIO_DEVICE_SET_IRQS"::equals).count(),
                    "both functions' interrupts torn down before: " + log);
            assertTrue(log.subList(at, log.size()).stream().filter("VFIO_DEVICE_SET_IRQS"::equals).count() >= 2,
                    "and set up again after (MSI-X enable and unmask, INTx): " + log);
            assertEquals(InterruptMode.MSIX, a.interruptMode());
            assertEquals(InterruptMode.INTX, b.interruptMode());
            assertEquals(ResetMethod.HOT_RESET, b.reset(), "a function reset falls back to the shared hot reset");
        }
    }

    @Test
    void hotResetIsRefusedBeforeTheIoctlWhenTheVmDoesNotOwnEveryGroup() {
        try (VfioContext ctx = context(false)) {
            attach(ctx, PassthroughRig.BDF, 4);
            rig.device.hotResetDevices(List.of(new DependentDevice(PassthroughRig.GROUP, 0, 3, 0),
                    new DependentDevice(PassthroughRig.GROUP, 0, 3, 1), new DependentDevice(40, 0, 3, 2)));
            HotResetRefusedException e = assertThrows(HotResetRefusedException.class,
                    () -> ctx.hotReset(ctx.member(PassthroughRig.BDF).orElseThrow()));
            assertEquals(java.util.Set.of(40), e.missingGroups());
            assertTrue(e.getMessage().contains("0000:03:00.2 (group 40)"), e.getMessage());
            assertEquals(0, rig.kernel.ioctlCount("VFIO_DEVICE_PCI_HOT_RESET"));
        }
    }

    @Test
    void systemResetSharesOneBusResetBetweenTheFunctionsThatNeedIt() {
        try (VfioContext ctx = context(false)) {
            attach(ctx, PassthroughRig.BDF, 4);
            attach(ctx, SECOND, 5);
            Map<String, ResetMethod> done = ctx.resetAll();
            assertEquals(Map.of(PassthroughRig.BDF, ResetMethod.HOT_RESET, SECOND, ResetMethod.HOT_RESET), done);
            assertEquals(1, rig.device.hotResets() + second.hotResets(), "one bus reset for both");
        }
    }
}
