package org.vfio4j.vfio;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.errors.HotResetRefusedException;
import org.vfio4j.vfio.irq.IrqInfo;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.HotResetInfo;

/**
 * IRQ info and SET_IRQS with real eventfds (the fake kernel signals them as the hardware would), device reset, and
 * PCI hot reset with its ENOSPC re-query and group ownership check.
 */
class IrqAndResetTest {
    @TempDir
    Path tmp;
    FakeRig rig;
    VfioStack stack;

    @BeforeEach
    void open() {
        rig = new FakeRig(tmp);
        stack = rig.vfio.openPciDevice(FakeRig.NIC);
    }

    @AfterEach
    void close() {
        stack.close();
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void irqInfoNamesEveryPciIndex() {
        List<IrqInfo> irqs = stack.device().irqInfos();
        assertEquals(List.of("INTX", "MSI", "MSIX", "ERR", "REQ"), irqs.stream().map(IrqInfo::name).toList());
        IrqInfo intx = irqs.get(VFIO_PCI_INTX_IRQ_INDEX);
        assertTrue(intx.eventfd() && intx.maskable() && intx.automasked());
        assertEquals(4, irqs.get(VFIO_PCI_MSIX_IRQ_INDEX).count());
        assertTrue(irqs.get(VFIO_PCI_MSIX_IRQ_INDEX).noResize());
    }

    @Test
    void conventionalPciDeviceHasNoErrIndexAndTheListingLeavesItOut() {
        // The sibling function defines no ERR index: the fake answers EINVAL, as vfio-pci does for non-PCIe devices.
        try (VfioStack sibling = rig.vfio.openPciDevice(FakeRig.SIBLING)) {
            SyscallException e = assertThrows(SyscallException.class,
                    () -> sibling.device().irqInfo(VFIO_PCI_ERR_IRQ_INDEX));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("IRQ index 3 (ERR)"), e.getMessage());
            assertEquals(List.of("INTX", "MSI", "MSIX", "REQ"),
                    sibling.device().irqInfos().stream().map(IrqInfo::name).toList());
        }
    }

    @Test
    void msixVectorsSignalTheirOwnEventfds() {
        try (EventFd v0 = EventFd.create(rig.kernel, "msix 0"); EventFd v2 = EventFd.create(rig.kernel, "msix 2")) {
            stack.device().irqs().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 0, v0, null, v2);
            assertArrayEquals(new int[] {v0.fd(), -1, v2.fd(), -1}, rig.nic.triggers(VFIO_PCI_MSIX_IRQ_INDEX));
            assertTrue(rig.kernel.raise(rig.nic, VFIO_PCI_MSIX_IRQ_INDEX, 2));
            assertEquals(0, v0.drain());
            assertEquals(1, v2.drain());
            assertFalse(rig.kernel.raise(rig.nic, VFIO_PCI_MSIX_IRQ_INDEX, 1), "vector 1 has no eventfd");

            stack.device().irqs().fire(VFIO_PCI_MSIX_IRQ_INDEX, 0, 1);
            assertEquals(1, v0.drain(), "user-space trigger loops back to the eventfd");

            stack.device().irqs().unassign(VFIO_PCI_MSIX_IRQ_INDEX, 2, 1);
            assertArrayEquals(new int[] {v0.fd(), -1, -1, -1}, rig.nic.triggers(VFIO_PCI_MSIX_IRQ_INDEX));

            stack.device().irqs().disable(VFIO_PCI_MSIX_IRQ_INDEX);
            assertArrayEquals(new int[0], rig.nic.triggers(VFIO_PCI_MSIX_IRQ_INDEX));
        }
    }

    @Test
    void intxMaskUnmaskAndResampleFd() {
        try (EventFd trigger = EventFd.create(rig.kernel, "intx");
             EventFd resample = EventFd.create(rig.kernel, "intx resample")) {
            var irqs = stack.device().irqs();
            irqs.trigger(VFIO_PCI_INTX_IRQ_INDEX, 0, trigger);
            irqs.mask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
            assertTrue(rig.nic.masked(VFIO_PCI_INTX_IRQ_INDEX, 0));
            assertFalse(rig.kernel.raise(rig.nic, VFIO_PCI_INTX_IRQ_INDEX, 0), "masked INTx doesn't fire");
            irqs.unmask(VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
            assertFalse(rig.nic.masked(VFIO_PCI_INTX_IRQ_INDEX, 0));
            assertTrue(rig.kernel.raise(rig.nic, VFIO_PCI_INTX_IRQ_INDEX, 0));
            assertEquals(1, trigger.drain());
            irqs.unmaskOnEventfd(VFIO_PCI_INTX_IRQ_INDEX, 0, resample.fd());
            assertEquals(resample.fd(), rig.nic.unmaskFd(VFIO_PCI_INTX_IRQ_INDEX));
            irqs.unmaskOnEventfd(VFIO_PCI_INTX_IRQ_INDEX, 0, -1);
            assertEquals(-1, rig.nic.unmaskFd(VFIO_PCI_INTX_IRQ_INDEX));
        }
    }

    @Test
    void badSetIrqsNamesIndexRangeAndErrno() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> stack.device().irqs().trigger(VFIO_PCI_MSIX_IRQ_INDEX, 3, new int[] {-1, -1}));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("VFIO_DEVICE_SET_IRQS"), e.getMessage());
        assertTrue(e.getMessage().contains("IRQ index MSIX (2) start 3 count 2"), e.getMessage());
        assertThrows(SyscallException.class, () -> stack.device().irqs().mask(VFIO_PCI_MSI_IRQ_INDEX, 0, 1),
                "MSI isn't maskable");
    }

    @Test
    void hotResetInfoIsReQueriedWithTheCountTheKernelWroteBack() {
        HotResetInfo info = stack.device().hotResetInfo();
        assertEquals(2, rig.kernel.ioctlCount("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"), "ENOSPC, then the answer");
        assertEquals(List.of(new DependentDevice(7, 0, 1, 0), new DependentDevice(8, 0, 1, 1)), info.devices());
        assertEquals("0000:01:00.1", info.devices().get(1).bdf());
        assertEquals(Set.of(7, 8), info.groupIds());
    }

    @Test
    void hotResetInfoGivesUpOnAnEndlessEnospc() {
        rig.nic.hotResetEnospcForever();
        SyscallException e = assertThrows(SyscallException.class, () -> stack.device().hotResetInfo());
        assertEquals(Errno.ENOSPC, e.errno());
        assertTrue(e.getMessage().contains("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"), e.getMessage());
        assertTrue(e.getMessage().contains("still ENOSPC"), e.getMessage());
        assertEquals(4, rig.kernel.ioctlCount("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO"));
    }

    @Test
    void hotResetInfoOnADeviceWithoutHotResetIsEnodev() {
        try (VfioStack igd = rig.vfio.openPciDevice(FakeRig.IGD)) {
            SyscallException e = assertThrows(SyscallException.class, () -> igd.device().hotResetInfo());
            assertEquals(Errno.ENODEV, e.errno());
            assertTrue(e.getMessage().contains(FakeRig.IGD));
        }
    }

    @Test
    void hotResetWithoutTheSiblingGroupIsRefusedBeforeTheIoctl() {
        HotResetRefusedException e = assertThrows(HotResetRefusedException.class,
                () -> stack.device().hotReset(List.of()));
        assertEquals(Set.of(8), e.missingGroups());
        assertTrue(e.getMessage().contains("0000:01:00.1 (group 8)"), e.getMessage());
        assertTrue(e.getMessage().contains(FakeRig.NIC), e.getMessage());
        assertEquals(0, rig.kernel.ioctlCount("VFIO_DEVICE_PCI_HOT_RESET"));
        assertEquals(0, rig.nic.hotResets());
    }

    @Test
    void hotResetWithEveryGroupPassesTheirFds() {
        try (VfioGroup sibling = rig.vfio.openGroup(8)) {
            stack.device().hotReset(List.of(sibling));
            assertEquals(1, rig.nic.hotResets());
            assertArrayEquals(new int[] {7, 8}, rig.nic.lastHotResetGroupIds());
        }
    }
}
