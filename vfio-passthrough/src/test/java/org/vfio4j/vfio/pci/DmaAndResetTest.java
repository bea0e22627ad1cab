package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.ResetMethod;

/** Guest RAM in the IOMMU, KVM-VFIO registration, and the reset choices. */
class DmaAndResetTest {
    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;

    @AfterEach
    void detach() {
        if (dev != null) {
            dev.detach();
        }
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void guestRamIsMappedAtIovaEqualsGpaAndFollowsHotplug() {
        rig = new PassthroughRig(tmp);
        long availBefore = -1;
        dev = rig.attach();
        assertEquals(1, rig.kernel.liveDmaMappings());
        assertEquals(2L << 20, dev.counters().dmaMappedBytes());
        availBefore = dev.dmaAvailable().orElseThrow();
        RamRegion high = rig.kvm.guestMemory().addRam(0x1000_0000L, 1 << 20, "hotplugged");
        assertEquals(2, rig.kernel.liveDmaMappings(), "added RAM is mapped");
        assertEquals(availBefore - 1, dev.dmaAvailable().orElseThrow(), "DMA_AVAIL tracks the mapping count");
        rig.kvm.guestMemory().removeRam(high);
        assertEquals(1, rig.kernel.liveDmaMappings(), "removed RAM is unmapped");
        assertEquals(availBefore, dev.dmaAvailable().orElseThrow());
        dev.detach();
        assertEquals(0, rig.kernel.liveDmaMappings(), "detach unmaps");
    }

    @Test
    void ramOverlappingTheMsiWindowIsRefusedBeforeAnythingIsMapped() {
        rig = new PassthroughRig(tmp);
        int slots = rig.kvm.deviceMemory().slotsAvailable();
        rig.vmm.extraRam.add(new RamRegion(0xfe000000L, 0x1000000L, 0x7f0000000000L, "bad high"));
        DmaRangeException e = assertThrows(DmaRangeException.class, () -> rig.attach());
        assertTrue(e.getMessage().contains("bad high"), e.getMessage());
        assertTrue(e.getMessage().contains("MSI window"), e.getMessage());
        assertTrue(e.getMessage().contains(PassthroughRig.BDF), e.getMessage());
        assertEquals(0, rig.kernel.liveDmaMappings(), "the low RAM was not mapped either");
        assertEquals(0, rig.kernel.openFakeFds(), "failed attach released container, group and device");
        assertEquals(slots, rig.kvm.deviceMemory().slotsAvailable());
        assertNull(rig.host.rootBus().function(4, 0));
    }

    @Test
    void groupIsRegisteredWithTheHypervisorWhileAttached() {
        rig = new PassthroughRig(tmp);
        dev = rig.attach();
        assertEquals(List.of("add vfio group " + PassthroughRig.GROUP), rig.vmm.groupEvents);
        dev.detach();
        assertEquals(List.of("add vfio group " + PassthroughRig.GROUP, "del vfio group " + PassthroughRig.GROUP),
                rig.vmm.groupEvents);
    }

    @Test
    void deviceResetIsUsedWhenOfferedAndInterruptsComeBack() {
        rig = new PassthroughRig(tmp);
        dev = rig.attach();
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY);
        rig.cfgWrite(PassthroughRig.MSIX_CAP + 2, 2, PCI_MSIX_FLAGS_ENABLE);
        int logStart = rig.kernel.ioctlLog().size();
        rig.config.buffer().putShort(0x04, (short) 0); // what an FLR does to the command register
        assertEquals(ResetMethod.DEVICE_RESET, dev.reset());
        assertEquals(1, rig.device.resets());
        assertEquals(ResetMethod.DEVICE_RESET, dev.counters().lastReset());
        assertEquals(InterruptMode.MSIX, dev.interruptMode(), "MSI-X re-enabled from the emulated state");
        assertEquals(8, rig.device.triggers(VFIO_PCI_MSIX_IRQ_INDEX).length);
        List<String> log = rig.kernel.ioctlLog().subList(logStart, rig.kernel.ioctlLog().size());
        int resetAt = log.indexOf("VFIO_DEVICE_RESET");
        assertTrue(log.subList(0, resetAt).contains("VFIO_DEVICE_SET_IRQS"), "MSI-X disabled before the reset: " + log);
        assertTrue(log.subList(resetAt, log.size()).contains("VFIO_DEVICE_SET_IRQS"), "and enabled after: " + log);
        assertEquals(PCI_COMMAND_MEMORY, rig.config.buffer().getShort(0x04) & 0x7, "decode restored in the device");
    }

    @Test
    void hotResetWhenEveryAffectedGroupIsOwnedOtherwiseNone() {
        rig = new PassthroughRig(tmp, r -> r.device.flags(VFIO_DEVICE_FLAGS_PCI)
                .hotResetDevices(List.of(new DependentDevice(PassthroughRig.GROUP, 0, 3, 0))));
        dev = rig.attach();
        assertEquals(ResetMethod.HOT_RESET, dev.reset());
        assertEquals(1, rig.device.hotResets());
        assertEquals(0, rig.device.resets());
        rig.device.hotResetDevices(List.of(new DependentDevice(PassthroughRig.GROUP, 0, 3, 0),
                new DependentDevice(99, 0, 3, 1)));
        assertEquals(ResetMethod.NONE, dev.reset(), "group 99 belongs to nobody here");
        assertEquals(1, rig.device.hotResets());
        assertEquals(InterruptMode.INTX, dev.interruptMode(), "interrupts are back after a refused reset too");
    }

    @Test
    void guestFunctionLevelResetResetsTheDeviceAndTheGuestView() {
        rig = new PassthroughRig(tmp, r -> r.config.buffer().putInt(PassthroughRig.PCIE_CAP + 4, 1 << 28));
        dev = rig.attach();
        int slots = rig.kvm.deviceMemory().slotsAvailable();
        rig.cfgWrite(0x10, 4, 0xe0000000L);
        rig.cfgWrite(0x14, 4, 0);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        rig.cfgWrite(PassthroughRig.MSIX_CAP + 2, 2, PCI_MSIX_FLAGS_ENABLE);
        assertEquals(InterruptMode.MSIX, dev.interruptMode());
        assertTrue(rig.kvm.deviceMemory().slotsAvailable() < slots);
        int devctl = PassthroughRig.PCIE_CAP + 8;
        rig.cfgWrite(devctl, 2, 0x8000 | 0x0010);
        assertEquals(1, rig.device.resets(), "the guest's FLR became VFIO_DEVICE_RESET");
        assertEquals(0x0010, rig.config.buffer().getShort(devctl) & 0xFFFF,
                "other device control bits reach the device, the FLR bit never does");
        assertEquals(0L, rig.cfgRead(devctl, 2) & 0x8000, "FLR reads back zero");
        assertEquals(0L, rig.cfgRead(0x04, 2) & 0x7, "decode off after FLR");
        assertEquals(0x4L, rig.cfgRead(0x10, 4), "BAR0 unassigned after FLR");
        assertEquals(0L, rig.cfgRead(PassthroughRig.MSIX_CAP + 2, 2) & PCI_MSIX_FLAGS_ENABLE);
        assertEquals(InterruptMode.INTX, dev.interruptMode(), "back to INTx as after power-on");
        assertEquals(slots, rig.kvm.deviceMemory().slotsAvailable(), "BAR memslots removed");
        assertEquals(ResetMethod.DEVICE_RESET, dev.counters().lastReset());
    }

    @Test
    void resetOnAttachIsReported() {
        rig = new PassthroughRig(tmp);
        dev = rig.attach(b -> b.resetOnAttach(true));
        assertEquals(1, rig.device.resets());
        assertEquals(ResetMethod.DEVICE_RESET, dev.counters().lastReset());
    }
}
