package org.vfio4j.vfio;

import static org.junit.jupiter.api.Assertions.*;

import com.google.inject.Guice;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.errors.GroupNotViableException;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.sysfs.Sysfs;

/** Group viability, group lookup through sysfs, ownership and close order, and the Guice module. */
class LifecycleTest {
    @TempDir
    Path tmp;
    FakeRig rig;

    @BeforeEach
    void rig() {
        rig = new FakeRig(tmp);
    }

    @Test
    void nonViableGroupNamesEachDeviceNotBoundToVfioPci() {
        GroupNotViableException e = assertThrows(GroupNotViableException.class,
                () -> rig.vfio.openPciDevice("0000:00:1f.0"));
        assertEquals(9, e.groupId());
        assertEquals(List.of("0000:00:1f.3 (bound to snd_hda_intel)", "0000:00:1f.4 (no driver)"), e.offenders());
        assertTrue(e.getMessage().contains("VFIO group 9 is not viable"), e.getMessage());
        assertTrue(e.getMessage().contains("0000:00:1f.3 (bound to snd_hda_intel)"), e.getMessage());
        assertEquals(0, rig.kernel.ioctlCount("VFIO_GROUP_SET_CONTAINER"), "refused before the kernel's EPERM");
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void openGroupWithoutViabilityStillReportsStatus() {
        try (VfioGroup g = rig.vfio.openGroup(9)) {
            assertFalse(g.isViable());
            assertThrows(GroupNotViableException.class, g::requireViable);
        }
    }

    @Test
    void groupLookupAcceptsFullAndShortBdfAndSysfsPaths() {
        assertEquals(7, rig.vfio.groupOf("0000:01:00.0"));
        assertEquals(7, rig.vfio.groupOf("01:00.0"));
        assertEquals(8, rig.vfio.groupOf("/sys/bus/pci/devices/0000:01:00.1"));
        assertEquals(3, rig.vfio.groupOf("/sys/devices/pci0000:00/0000:00:02.0"));
        assertEquals("0000:00:02.0", rig.vfio.sysfs().deviceName("/sys/bus/pci/devices/0000:00:02.0"));
        assertEquals(List.of("0000:00:02.0", "0000:00:1f.0", "0000:01:00.0", "0000:01:00.1"),
                rig.vfio.vfioPciDevices());
        VfioException missing = assertThrows(VfioException.class, () -> rig.vfio.groupOf("0000:05:00.0"));
        assertTrue(missing.getMessage().contains("no such device"));
        assertThrows(VfioException.class, () -> Sysfs.normalizeBdf("not-a-bdf"));
    }

    @Test
    void deviceWithoutIommuGroupSaysSo() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("sys/bus/pci/devices/0000:02:00.0"));
        VfioException e = assertThrows(VfioException.class, () -> rig.vfio.groupOf("0000:02:00.0"));
        assertTrue(e.getMessage().contains("has no IOMMU group"), e.getMessage());
    }

    @Test
    void closingTheContainerFirstClosesDevicesAndDetachesGroupsInOrder() {
        VfioContainer c = rig.vfio.openContainer();
        VfioGroup g7 = rig.vfio.openGroup(7);
        VfioGroup g8 = rig.vfio.openGroup(8);
        c.attach(g7);
        c.attach(g8);
        c.setIommu().map(0x7f0000000000L, 0, 0x10000, true, true);
        VfioDevice nic = g7.openDevice(FakeRig.NIC);
        VfioDevice sib = g8.openDevice(FakeRig.SIBLING);
        c.close();
        assertTrue(nic.isClosed() && sib.isClosed());
        assertNull(g7.container());
        assertEquals(0, rig.kernel.droppedDmaMappings(), "DMA unmapped before the last group left");
        g7.close();
        g8.close();
        c.close();
        nic.close();
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void lastGroupLeavingUnmapsDmaFirst() {
        VfioContainer c = rig.vfio.openContainer();
        VfioGroup g7 = rig.vfio.openGroup(7);
        c.attach(g7);
        c.setIommu().map(0x7f0000000000L, 0, 0x10000, true, true);
        g7.openDevice(FakeRig.NIC);
        g7.close(); // closes the device, unmaps, detaches
        assertEquals(0, rig.kernel.droppedDmaMappings());
        assertNull(c.iommu());
        assertEquals(List.of(), c.groups());
        c.close();
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void deviceNeedsAnIommuAndAnExistingName() {
        try (VfioContainer c = rig.vfio.openContainer(); VfioGroup g = rig.vfio.openGroup(7)) {
            assertThrows(VfioException.class, () -> g.openDevice(FakeRig.NIC), "no container yet");
            c.attach(g);
            assertThrows(VfioException.class, () -> g.openDevice(FakeRig.NIC), "no IOMMU yet");
            assertThrows(VfioException.class, () -> rig.vfio.openContainer().setIommu().type(), "no group");
            c.setIommu();
            SyscallException e = assertThrows(SyscallException.class, () -> g.openDevice("0000:09:00.0"));
            assertEquals(Errno.ENODEV, e.errno());
            assertTrue(e.getMessage().contains("VFIO_GROUP_GET_DEVICE_FD"));
            assertTrue(e.getMessage().contains("/dev/vfio/7"));
            assertTrue(e.getMessage().contains("device 0000:09:00.0"));
            assertTrue(c.checkExtension(org.vfio4j.vfio.uapi.VfioConstants.VFIO_TYPE1v2_IOMMU));
            assertEquals(0, c.apiVersion());
        }
    }

    @Test
    void aGroupOpensOnce() {
        try (VfioGroup g = rig.vfio.openGroup(7)) {
            SyscallException e = assertThrows(SyscallException.class, () -> rig.vfio.openGroup(7));
            assertEquals(Errno.EBUSY, e.errno());
            assertTrue(e.getMessage().contains("/dev/vfio/7"));
        }
    }

    @Test
    void guiceModuleExposesVfio() {
        Vfio v = Guice.createInjector(new VfioModule(rig.kernel, rig.sysfs.sysfs())).getInstance(Vfio.class);
        assertSame(rig.kernel, v.syscalls());
        try (VfioStack s = v.openPciDevice(FakeRig.NIC)) {
            assertEquals(FakeRig.NIC, s.device().name());
        }
        // It binds no Syscalls key, so it composes with a module that does, and can use that one.
        Vfio shared = Guice.createInjector(VfioModule.usingBoundSyscalls(rig.sysfs.sysfs()),
                binder -> binder.bind(Syscalls.class).toInstance(rig.kernel)).getInstance(Vfio.class);
        assertSame(rig.kernel, shared.syscalls());
        assertEquals(7, shared.groupOf(FakeRig.NIC));
    }

    @Test
    void withoutVfioOnTheHostTheErrorNamesTheNode() {
        // Real kernel: this build host has no /dev/vfio at all.
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.exists(Path.of("/dev/vfio/vfio")));
        SyscallException e = assertThrows(SyscallException.class, () -> Vfio.host().openContainer());
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("open on /dev/vfio/vfio"), e.getMessage());
    }
}
