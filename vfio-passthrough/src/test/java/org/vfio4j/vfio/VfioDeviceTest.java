package org.vfio4j.vfio;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.region.RegionCapability;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.SparseArea;
import org.vfio4j.vfio.region.VfioRegion;

/** Device info, regions and their capabilities, region access and mmap, against the fake kernel. */
class VfioDeviceTest {
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
        assertEquals(0, rig.kernel.openFakeFds(), "every fd closed");
        assertEquals(0, rig.kernel.liveMmaps(), "every mmap unmapped");
    }

    @Test
    void deviceInfoReportsFlagsAndCounts() {
        DeviceInfo info = stack.device().info();
        assertTrue(info.pci());
        assertTrue(info.resettable());
        assertEquals(VFIO_PCI_NUM_REGIONS, info.numRegions());
        assertEquals(VFIO_PCI_NUM_IRQS, info.numIrqs());
        assertEquals(List.of("RESET", "PCI"), info.flagNames());
        assertEquals(List.of(), info.capabilities());
    }

    @Test
    void deviceCapsAreWalkedAndKeptRaw() {
        rig.nic.deviceCap(VFIO_DEVICE_INFO_CAP_ZPCI_BASE_FOR_TEST, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        DeviceInfo info = stack.device().info();
        assertEquals(2, rig.kernel.ioctlCount("VFIO_DEVICE_GET_INFO"), "re-queried for the chain");
        assertTrue(info.flagNames().contains("CAPS"));
        assertEquals(1, info.capabilities().size());
        assertEquals(VFIO_DEVICE_INFO_CAP_ZPCI_BASE_FOR_TEST, info.capabilities().get(0).id());
        assertEquals(20, info.capabilities().get(0).offset(), "right after the 20-byte vfio_device_info");
        assertEquals(List.of(), info.chainProblems());
    }

    /** VFIO_DEVICE_INFO_CAP_ZPCI_BASE: the only device caps the 6.1 header defines are s390 ones. */
    private static final int VFIO_DEVICE_INFO_CAP_ZPCI_BASE_FOR_TEST = 1;

    @Test
    void regionsCarryNamesSizesOffsetsAndDecodedCaps() {
        List<RegionInfo> regions = stack.device().regions();
        assertEquals(8, regions.size(), "the NIC has no VGA ranges, so the kernel answers EINVAL for index 8");
        RegionInfo bar0 = regions.get(0);
        assertEquals("BAR0", bar0.name());
        assertEquals(0x10000, bar0.size());
        assertEquals(0L, bar0.offset());
        assertTrue(bar0.readable() && bar0.writable() && bar0.mmappable());
        assertEquals(List.of(new SparseArea(0, 0x2000), new SparseArea(0x3000, 0xd000)),
                bar0.sparseAreas().orElseThrow());
        assertEquals(List.of(), bar0.chainProblems());
        RegionInfo bar2 = regions.get(2);
        assertTrue(bar2.msixMappable());
        assertEquals(2L << 40, bar2.offset());
        assertEquals(List.of(new SparseArea(0, 0x4000)), bar2.mmapAreas());
        assertEquals(0, regions.get(1).size(), "unimplemented BAR1 reads as size 0");
        assertEquals(List.of("BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "CONFIG"),
                regions.stream().map(RegionInfo::name).toList());
    }

    @Test
    void vgaIndexOfADeviceWithoutVgaIsLeftOutButOtherErrorsAreThrown() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> stack.device().regionInfo(VFIO_PCI_VGA_REGION_INDEX));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("region 8 (VGA)"), e.getMessage());
        try (VfioStack igd = rig.vfio.openPciDevice(FakeRig.IGD)) {
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11),
                    igd.device().regions().stream().map(RegionInfo::index).toList(),
                    "vendor regions past VGA are still listed");
        }
    }

    @Test
    void regionWithCapsIsQueriedAgainWithTheArgszTheKernelAsked() {
        long before = rig.kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO");
        stack.device().regionInfo(VFIO_PCI_BAR0_REGION_INDEX);
        assertEquals(before + 2, rig.kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO"));
        stack.device().regionInfo(VFIO_PCI_CONFIG_REGION_INDEX);
        assertEquals(before + 3, rig.kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO"), "no caps, one query");
    }

    @Test
    void vendorRegionTypesOfAnIgdAreDecoded() {
        try (VfioStack igd = rig.vfio.openPciDevice(FakeRig.IGD)) {
            assertEquals(12, igd.device().info().numRegions());
            assertEquals(RegionType.INTEL_IGD_OPREGION, igd.device().regionInfo(9).type().orElseThrow());
            assertEquals(RegionType.INTEL_IGD_HOST_CFG, igd.device().regionInfo(10).type().orElseThrow());
            assertEquals(RegionType.INTEL_IGD_LPC_CFG, igd.device().regionInfo(11).type().orElseThrow());
            RegionType op = igd.device().regionInfo(9).type().orElseThrow();
            assertEquals(0x8086, op.vendorId());
            assertEquals("Intel IGD OpRegion", op.describe());
            assertEquals("region 9", igd.device().regionInfo(9).name());
        }
    }

    @Test
    void malformedChainFromTheKernelStillGivesTheRegion() {
        // A loop: cap at 32 points to 48, which points back to 32.
        rig.nic.rawRegionInfo(5, argsz -> {
            ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0, 64).putInt(4, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_CAPS).putInt(8, 5)
                    .putInt(12, argsz >= 64 ? 32 : 0).putLong(16, 0x1000).putLong(24, 5L << 40);
            b.putShort(32, (short) 0x99).putShort(34, (short) 1).putInt(36, 48);
            b.putShort(48, (short) VFIO_REGION_INFO_CAP_TYPE).putShort(50, (short) 1).putInt(52, 32);
            b.putInt(56, 1).putInt(60, 2);
            return b.array();
        });
        RegionInfo r = stack.device().regionInfo(5);
        assertEquals(0x1000, r.size());
        assertEquals(2, r.capabilities().size());
        assertInstanceOf(RegionCapability.Unknown.class, r.capabilities().get(0));
        assertEquals(0x99, r.capabilities().get(0).raw().id());
        assertEquals(new RegionType(1, 2), r.type().orElseThrow());
        assertEquals(1, r.chainProblems().size());
        assertTrue(r.chainProblems().get(0).contains("loop"));
    }

    @Test
    void truncatedSparseCapStaysRaw() {
        rig.nic.rawRegionInfo(4, argsz -> {
            ByteBuffer b = ByteBuffer.allocate(56).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0, 56).putInt(4, VFIO_REGION_INFO_FLAG_CAPS | VFIO_REGION_INFO_FLAG_MMAP).putInt(8, 4)
                    .putInt(12, argsz >= 56 ? 32 : 0).putLong(16, 0x1000).putLong(24, 4L << 40);
            // claims 1000 areas in a 24-byte cap
            b.putShort(32, (short) VFIO_REGION_INFO_CAP_SPARSE_MMAP).putShort(34, (short) 1).putInt(36, 0);
            b.putInt(40, 1000);
            return b.array();
        });
        RegionInfo r = stack.device().regionInfo(4);
        assertInstanceOf(RegionCapability.Unknown.class, r.capabilities().get(0));
        assertTrue(r.sparseAreas().isEmpty());
    }

    @Test
    void kernelThatKeepsGrowingArgszIsCutOff() {
        rig.nic.rawRegionInfo(3, argsz -> {
            ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0, argsz + 64).putInt(4, VFIO_REGION_INFO_FLAG_CAPS).putInt(8, 3).putInt(12, 0);
            return b.array();
        });
        long before = rig.kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO");
        RegionInfo r = stack.device().regionInfo(3);
        assertEquals(4, rig.kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO") - before);
        assertTrue(r.chainProblems().get(0).contains("larger buffer"), r.chainProblems().toString());
    }

    @Test
    void unknownRegionIndexNamesTheIoctlAndErrno() {
        SyscallException e = assertThrows(SyscallException.class, () -> stack.device().regionInfo(40));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("VFIO_DEVICE_GET_REGION_INFO"));
        assertTrue(e.getMessage().contains("vfio device " + FakeRig.NIC));
        assertTrue(e.getMessage().contains("region 40"));
    }

    @Test
    void regionReadWriteAtEverySize() {
        VfioRegion cfg = stack.device().region(VFIO_PCI_CONFIG_REGION_INDEX);
        cfg.write(0x40, 1, 0xab);
        cfg.write(0x42, 2, 0xbeef);
        cfg.write(0x44, 4, 0xdeadbeefL);
        cfg.write(0x48, 8, 0x0123456789abcdefL);
        assertEquals(0xab, cfg.read(0x40, 1));
        assertEquals(0xbeef, cfg.read(0x42, 2));
        assertEquals(0xdeadbeefL, cfg.read(0x44, 4));
        assertEquals(0x0123456789abcdefL, cfg.read(0x48, 8));
        assertEquals(0xef00, cfg.read(0x41, 2), "unaligned: bytes 0x41 (never written) and 0x42");
        assertEquals(0xefbe, cfg.read(0x43, 2), "unaligned: the high byte of 0xbeef and the low byte of 0xdeadbeef");
        ByteBuffer raw = rig.nic.region(VFIO_PCI_CONFIG_REGION_INDEX).buffer();
        assertEquals((byte) 0xab, raw.get(0x40));
        assertEquals((short) 0xbeef, raw.getShort(0x42));
        assertEquals(0x0123456789abcdefL, raw.getLong(0x48));
        byte[] block = new byte[300];
        for (int i = 0; i < block.length; i++) {
            block[i] = (byte) i;
        }
        cfg.write(0xcff, block, 0, 300);
        byte[] back = new byte[300];
        cfg.read(0xcff, back, 0, 300);
        assertArrayEquals(block, back);
        assertEquals(0x2c2b, cfg.read(0xcff + 0x2b, 2));
    }

    @Test
    void accessOutsideTheRegionIsRefusedWithoutASyscall() {
        VfioRegion cfg = stack.device().region(VFIO_PCI_CONFIG_REGION_INDEX);
        VfioException e = assertThrows(VfioException.class, () -> cfg.read(0xffe, 4));
        assertTrue(e.getMessage().contains("outside region CONFIG"), e.getMessage());
        assertTrue(e.getMessage().contains(FakeRig.NIC));
        VfioRegion rom = stack.device().region(VFIO_PCI_ROM_REGION_INDEX);
        assertThrows(VfioException.class, () -> rom.write(0, 4, 0), "ROM is read-only");
        assertThrows(IllegalArgumentException.class, () -> cfg.read(0, 3));
    }

    @Test
    void ioeventfdIsAssignedAtTheRegionOffsetWithItsWidthAndDeassignedOnClose() throws Exception {
        VfioRegion bar0 = stack.device().region(VFIO_PCI_BAR0_REGION_INDEX);
        long base = (long) VFIO_PCI_BAR0_REGION_INDEX << 40;
        try (org.vfio4j.core.sys.EventFd doorbell = org.vfio4j.core.sys.EventFd.create(rig.kernel, "doorbell")) {
            AutoCloseable reg = bar0.ioeventfd(0x1000, 4, 0x1_0000_00ffL, doorbell);
            assertEquals(java.util.Map.of(String.format("%s offset 0x%x width 4 data 0xff", FakeRig.NIC,
                    base + 0x1000), doorbell.fd()), rig.kernel.ioeventfds(), "the data cut to the width");
            reg.close();
            reg.close();
            assertTrue(rig.kernel.ioeventfds().isEmpty(), "closing de-assigns, once");
            SyscallException e = assertThrows(SyscallException.class, () -> bar0.ioeventfd(0x1002, 4, 1, doorbell));
            assertEquals(Errno.EINVAL, e.errno(), "a misaligned write is refused by the kernel");
            assertEquals("VFIO_DEVICE_IOEVENTFD", e.request());
            VfioRegion cfg = stack.device().region(VFIO_PCI_CONFIG_REGION_INDEX);
            assertThrows(SyscallException.class, () -> cfg.ioeventfd(0x10, 2, 1, doorbell), "BARs only");
            assertThrows(VfioException.class, () -> bar0.ioeventfd(0x10000, 4, 1, doorbell), "outside the region");
        }
    }

    @Test
    void eioOnRegionAccessNamesDeviceRegionAndErrno() {
        rig.nic.region(VFIO_PCI_CONFIG_REGION_INDEX).failAccesses(Errno.EIO);
        VfioRegion cfg = stack.device().region(VFIO_PCI_CONFIG_REGION_INDEX);
        SyscallException e = assertThrows(SyscallException.class, () -> cfg.read(0x10, 4));
        assertEquals(Errno.EIO, e.errno());
        assertEquals("pread", e.call());
        assertTrue(e.getMessage().contains("vfio device " + FakeRig.NIC), e.getMessage());
        assertTrue(e.getMessage().contains("region CONFIG offset 0x10 size 4"), e.getMessage());
        assertTrue(e.getMessage().contains("EIO"), e.getMessage());
        SyscallException w = assertThrows(SyscallException.class, () -> cfg.write(0x10, 4, 1));
        assertEquals("pwrite", w.call());
    }

    @Test
    void sparseAreasAreMappedAndTheMsixHoleIsNot() {
        VfioRegion bar0 = stack.device().region(VFIO_PCI_BAR0_REGION_INDEX);
        rig.nic.region(0).buffer().putInt(0x3010, 0x5a5a1234);
        List<MemoryMapping> maps = bar0.mmapAll();
        try {
            assertEquals(List.of("region 0 offset 0x0 length 0x2000", "region 0 offset 0x3000 length 0xd000"),
                    rig.kernel.mmapRanges());
            assertEquals(0x5a5a1234, maps.get(1).getInt(0x10));
            VfioException e = assertThrows(VfioException.class, () -> bar0.mmap(0x2000, 0x1000));
            assertTrue(e.getMessage().contains("outside its mmap areas"), e.getMessage());
            assertThrows(VfioException.class, () -> bar0.mmap(0x100, 0x1000), "unaligned");
            assertThrows(VfioException.class,
                    () -> stack.device().region(VFIO_PCI_CONFIG_REGION_INDEX).mmap(0, 0x1000), "no MMAP flag");
        } finally {
            maps.forEach(MemoryMapping::close);
        }
        assertEquals(0, rig.kernel.liveMmaps());
    }

    @Test
    void wholeRegionIsMappedWhenThereIsNoSparseCap() {
        List<MemoryMapping> maps = stack.device().region(VFIO_PCI_BAR2_REGION_INDEX).mmapAll();
        assertEquals(1, maps.size());
        assertEquals(0x4000, maps.get(0).length());
        maps.get(0).close();
        maps.get(0).close();
        assertEquals(0, rig.kernel.liveMmaps());
    }

    @Test
    void deviceResetReachesTheKernel() {
        stack.device().reset();
        assertEquals(1, rig.nic.resets());
        rig.nic.flags(VFIO_DEVICE_FLAGS_PCI);
        SyscallException e = assertThrows(SyscallException.class, () -> stack.device().reset());
        assertTrue(e.getMessage().contains("VFIO_DEVICE_RESET"));
    }
}
