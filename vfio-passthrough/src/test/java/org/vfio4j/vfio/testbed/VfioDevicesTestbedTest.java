package org.vfio4j.vfio.testbed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioStack;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.iommu.DmaMapping;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.iommu.Type1Iommu;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.SparseArea;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.reset.HotResetInfo;
import org.vfio4j.vfio.testing.TestbedDevices;
import org.vfio4j.vfio.uapi.VfioConstants;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * The VFIO layer against the real vfio-pci driver and type1 IOMMU, on the emulated devices of the testbed guest
 * (edu, nvme and e1000e behind their root ports, ivshmem-plain). Each test opens its own container, group and device
 * through {@link Vfio#openPciDevice(String)} and closes them again, so the tests are independent.
 */
@Tag("testbed")
class VfioDevicesTestbedTest {
    /** PCI config space: the BAR2 register, and the I/O space indicator bit of a BAR. */
    private static final int PCI_BASE_ADDRESS_2 = 0x18;
    private static final int PCI_BASE_ADDRESS_SPACE_IO = 0x01;
    private static final int ROM_SIGNATURE = 0xaa55;

    private final Vfio vfio = Vfio.host();

    private VfioStack open(String name) {
        return vfio.openPciDevice(TestbedDevices.bdf(name));
    }

    @Test
    void nvmeBar0CarriesTheMsixMappableCapability() {
        try (VfioStack nvme = open("nvme")) {
            RegionInfo bar0 = nvme.device().regionInfo(VfioConstants.VFIO_PCI_BAR0_REGION_INDEX);
            assertTrue(bar0.size() > 0, "nvme BAR0 " + bar0);
            assertTrue(bar0.mmappable(), "nvme BAR0 " + bar0);
            assertTrue(bar0.msixMappable(), "the MSI-X table sits in nvme BAR0, so the kernel must say it may be "
                    + "mapped: " + bar0);
            // Because the table may be mapped, the whole BAR is one mmap area: no hole cut out for the table.
            assertEquals(List.of(new SparseArea(0, bar0.size())), bar0.mmapAreas(), bar0.toString());
        }
    }

    @Test
    void e1000eBar2IsAnIoRegionWithoutMmapAndTheRomIsPresent() {
        try (VfioStack e1000e = open("e1000e")) {
            RegionInfo bar2 = e1000e.device().regionInfo(VfioConstants.VFIO_PCI_BAR2_REGION_INDEX);
            assertTrue(bar2.size() > 0, "e1000e BAR2 " + bar2);
            assertTrue(bar2.readable() && bar2.writable(), "e1000e BAR2 " + bar2);
            assertEquals(0, bar2.flags() & VfioConstants.VFIO_REGION_INFO_FLAG_MMAP, "I/O BARs can't be mmapped");
            assertFalse(bar2.mmappable(), bar2.toString());
            assertTrue(bar2.mmapAreas().isEmpty(), bar2.toString());
            VfioRegion config = e1000e.device().region(VfioConstants.VFIO_PCI_CONFIG_REGION_INDEX);
            long bar2Register = config.read(PCI_BASE_ADDRESS_2, 4);
            assertEquals(PCI_BASE_ADDRESS_SPACE_IO, bar2Register & PCI_BASE_ADDRESS_SPACE_IO,
                    String.format("BAR2 register 0x%08x is not an I/O BAR", bar2Register));

            RegionInfo rom = e1000e.device().regionInfo(VfioConstants.VFIO_PCI_ROM_REGION_INDEX);
            assertTrue(rom.size() > 0, "e1000e ROM " + rom);
            assertTrue(rom.readable(), rom.toString());
            assertEquals(ROM_SIGNATURE, e1000e.device().region(VfioConstants.VFIO_PCI_ROM_REGION_INDEX).read(0, 2),
                    "an option ROM starts with 55 aa");
        }
    }

    @Test
    void theIovaRangesCapabilityExcludesTheMsiWindow() {
        try (VfioStack edu = open("edu")) {
            List<IovaRange> ranges = edu.iommu().info().iovaRanges().orElseThrow(
                    () -> new AssertionError("type1 reported no IOVA ranges"));
            assertFalse(ranges.isEmpty());
            for (IovaRange r : ranges) {
                assertFalse(r.overlaps(IovaRange.X86_MSI_WINDOW), "range " + r + " overlaps the MSI window");
            }
            assertTrue(edu.iommu().reservedHoles().stream().anyMatch(h -> h.contains(IovaRange.X86_MSI_WINDOW)),
                    "holes " + edu.iommu().reservedHoles());
            // Just below and just above the window are valid: the hole is the window, not more of the 4 GiB space.
            assertTrue(ranges.stream().anyMatch(r -> r.contains(new IovaRange(0, 0xfedfffffL))), ranges.toString());
            assertTrue(ranges.stream().anyMatch(r -> r.contains(new IovaRange(0xfef00000L, 0xffffffffL))),
                    ranges.toString());
            // Our pre-check refuses a mapping there, and so does the kernel when asked directly.
            assertThrows(DmaRangeException.class, () -> edu.iommu().validate(0xfee00000L, Linux.PAGE_SIZE));
            try (MemoryMapping page = MemoryMapping.anonymous(vfio.syscalls(), Linux.PAGE_SIZE, "msi window probe")) {
                assertEquals(-Errno.EINVAL, rawMapDma(edu, page.address(), 0xfee00000L, Linux.PAGE_SIZE));
                assertEquals(0, rawMapDma(edu, page.address(), 0xfed00000L, Linux.PAGE_SIZE), "just below");
                edu.iommu().unmap(0xfed00000L, Linux.PAGE_SIZE);
            }
        }
    }

    /** VFIO_IOMMU_MAP_DMA straight to the kernel, past the layer's validation; returns 0 or -errno. */
    private static int rawMapDma(VfioStack stack, long vaddr, long iova, long size) {
        Memory m = new Memory(VfioLayouts.DmaMap.SIZE);
        m.clear();
        m.setInt(VfioLayouts.DmaMap.ARGSZ, VfioLayouts.DmaMap.SIZE);
        m.setInt(VfioLayouts.DmaMap.FLAGS, VfioConstants.VFIO_DMA_MAP_FLAG_READ | VfioConstants.VFIO_DMA_MAP_FLAG_WRITE);
        m.setLong(VfioLayouts.DmaMap.VADDR, vaddr);
        m.setLong(VfioLayouts.DmaMap.IOVA, iova);
        m.setLong(VfioLayouts.DmaMap.MAP_SIZE, size);
        return stack.container().descriptor().ioctlRaw(VfioIoctls.VFIO_IOMMU_MAP_DMA, m);
    }

    @Test
    void dmaAvailableDropsByOnePerMappingAndComesBackOnUnmap() {
        int count = 4;
        try (VfioStack edu = open("edu");
             MemoryMapping ram = MemoryMapping.anonymous(vfio.syscalls(), count * Linux.PAGE_SIZE, "dma test ram")) {
            Type1Iommu iommu = edu.iommu();
            long before = iommu.info().dmaAvailable().orElseThrow(
                    () -> new AssertionError("type1 reported no DMA_AVAIL capability"));
            assertTrue(before >= count, "dma available " + before);
            List<DmaMapping> mappings = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                // Two pages apart in IOVA space, so the kernel can't treat them as one range.
                long iova = 0x100000L + 2L * i * Linux.PAGE_SIZE;
                mappings.add(iommu.map(ram.address() + i * Linux.PAGE_SIZE, iova, Linux.PAGE_SIZE, true, true));
                assertEquals(before - (i + 1), iommu.info().dmaAvailable().getAsLong(), "after mapping " + (i + 1));
            }
            for (int i = 0; i < count; i++) {
                DmaMapping m = mappings.get(i);
                assertEquals(m.size(), iommu.unmap(m.iova(), m.size()));
                assertEquals(before - count + (i + 1), iommu.info().dmaAvailable().getAsLong(),
                        "after unmapping " + (i + 1));
            }
            assertTrue(iommu.mappings().isEmpty());
        }
    }

    @Test
    void hotResetInfoOfNvmeListsItsOwnGroup() {
        try (VfioStack nvme = open("nvme")) {
            HotResetInfo info = nvme.device().hotResetInfo();
            assertTrue(info.groupIds().contains(nvme.group().id()),
                    "group " + nvme.group().id() + " missing from " + info);
            assertTrue(info.devices().stream().anyMatch(d -> d.bdf().equals(TestbedDevices.bdf("nvme"))),
                    "nvme " + TestbedDevices.bdf("nvme") + " missing from " + info);
        }
    }

    @Test
    void deviceResetSucceedsOnNvmeAndE1000e() {
        for (String name : List.of("nvme", "e1000e")) {
            try (VfioStack stack = open(name)) {
                assertTrue(stack.device().info().resettable(), name + " " + stack.device().info().flagNames());
                stack.device().reset();
            }
        }
    }

    @Test
    void deviceResetOfEduGivesEinval() {
        try (VfioStack edu = open("edu")) {
            assertFalse(edu.device().info().resettable(), "edu has no FLR and no PM reset: "
                    + edu.device().info().flagNames());
            SyscallException e = assertThrows(SyscallException.class, () -> edu.device().reset());
            assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
        }
    }

    @Test
    void ivshmemBar2MmapSeesTheSameBytesAsPreadAndPwrite() {
        try (VfioStack ivshmem = open("ivshmem")) {
            VfioRegion bar2 = ivshmem.device().region(VfioConstants.VFIO_PCI_BAR2_REGION_INDEX);
            List<SparseArea> areas = bar2.info().mmapAreas();
            assertFalse(areas.isEmpty(), "ivshmem BAR2 has no mmap area: " + bar2.info());
            Random random = new Random(42);
            List<MemoryMapping> maps = bar2.mmapAll();
            try {
                for (int i = 0; i < areas.size(); i++) {
                    SparseArea area = areas.get(i);
                    MemoryMapping map = maps.get(i);
                    assertEquals(area.size(), map.length());
                    for (long at : new long[] {0, area.size() / 2, area.size() - 256}) {
                        // mmap store -> pread load
                        byte[] written = new byte[256];
                        random.nextBytes(written);
                        map.write(at, written, 0, written.length);
                        byte[] read = new byte[written.length];
                        bar2.read(area.offset() + at, read, 0, read.length);
                        assertArrayEquals(written, read, "pread after mmap store at 0x" + Long.toHexString(at));
                        // pwrite store -> mmap load
                        random.nextBytes(written);
                        bar2.write(area.offset() + at, written, 0, written.length);
                        map.read(at, read, 0, read.length);
                        assertArrayEquals(written, read, "mmap load after pwrite at 0x" + Long.toHexString(at));
                    }
                }
            } finally {
                maps.forEach(MemoryMapping::close);
            }
        }
    }
}
