package org.vfio4j.vfio;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.iommu.DmaMapper;
import org.vfio4j.vfio.iommu.DmaMapping;
import org.vfio4j.vfio.iommu.IommuCapability;
import org.vfio4j.vfio.iommu.IommuInfo;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.iommu.Type1Iommu;
import org.vfio4j.vfio.uapi.VfioConstants;

/** Type1 info with its capabilities, and DMA map/unmap with the pre-checks, against the fake kernel. */
class Type1IommuTest {
    private static final long HOST = 0x7f0000000000L; // the fake doesn't pin, any page-aligned vaddr will do
    private static final long MB = 1 << 20;

    @TempDir
    Path tmp;
    FakeRig rig;

    @BeforeEach
    void rig() {
        rig = new FakeRig(tmp);
    }

    @Test
    void infoDecodesIovaRangesDmaAvailableAndMigration() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            assertEquals(VfioConstants.VFIO_TYPE1v2_IOMMU, s.iommu().type());
            long before = rig.kernel.ioctlCount("VFIO_IOMMU_GET_INFO");
            IommuInfo info = s.iommu().info();
            assertEquals(2, rig.kernel.ioctlCount("VFIO_IOMMU_GET_INFO") - before, "re-queried with the argsz asked");
            assertEquals(0x40201000L, info.iovaPageSizes());
            assertEquals(4096, info.minPageSize());
            assertEquals(List.of(new IovaRange(0, 0xfedfffffL), new IovaRange(0xfef00000L, 0x7fffffffffL)),
                    info.iovaRanges().orElseThrow());
            assertEquals(65535, info.dmaAvailable().getAsLong());
            IommuCapability.Migration mig = info.migration().orElseThrow();
            assertEquals(0x40201000L, mig.pageSizeBitmap());
            assertEquals(256L << 20, mig.maxDirtyBitmapSize());
            assertEquals(List.of(), info.chainProblems(), "the unpadded 12-byte dma-avail cap is walked past");
            assertEquals(3, info.capabilities().size());
            assertEquals(68, info.capabilities().get(2).raw().offset(), "24 + 32 (migration) + 12 (dma-avail)");
        }
    }

    @Test
    void paddedCapabilitiesOfNewerKernelsDecodeTheSame() {
        rig.kernel.alignCapabilities(true).migrationCapability(false);
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            IommuInfo info = s.iommu().info();
            assertEquals(2, info.capabilities().size());
            assertTrue(info.migration().isEmpty());
            assertEquals(2, info.iovaRanges().orElseThrow().size());
            assertEquals(40, info.capabilities().get(1).raw().offset(), "12-byte dma-avail at 24, padded to 8");
        }
    }

    @Test
    void holesAreTheGapsBetweenTheRanges() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            assertEquals(List.of(new IovaRange(0xfee00000L, 0xfeefffffL), new IovaRange(0x8000000000L, -1L)),
                    s.iommu().reservedHoles());
        }
    }

    @Test
    void mappingOverTheMsiWindowIsRejectedBeforeTheIoctlNamingTheHole() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            DmaMapper dma = s.iommu();
            DmaRangeException e = assertThrows(DmaRangeException.class,
                    () -> dma.map(HOST, 0xfe000000L, 32 * MB, true, true));
            assertTrue(e.getMessage().contains("0xfee00000-0xfeefffff"), e.getMessage());
            assertTrue(e.getMessage().contains("(the x86 MSI window)"), e.getMessage());
            assertTrue(e.getMessage().contains("/dev/vfio/vfio"), e.getMessage());
            DmaRangeException high = assertThrows(DmaRangeException.class,
                    () -> dma.map(HOST, 0x7ffff00000L, 2 * MB, true, true));
            assertTrue(high.getMessage().contains("0x8000000000-0xffffffffffffffff"), high.getMessage());
            assertEquals(0, rig.kernel.ioctlCount("VFIO_IOMMU_MAP_DMA"), "nothing reached the kernel");
        }
    }

    @Test
    void misalignedAndOverlappingMappingsAreRejectedBeforeTheIoctl() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            Type1Iommu iommu = s.iommu();
            assertThrows(DmaRangeException.class, () -> iommu.map(HOST, 0x1800, 0x1000, true, true));
            assertThrows(DmaRangeException.class, () -> iommu.map(HOST, 0x1000, 0x800, true, true));
            assertThrows(DmaRangeException.class, () -> iommu.map(HOST, 0x1000, 0, true, true));
            assertThrows(DmaRangeException.class, () -> iommu.map(HOST, -4096L, 8192, true, true), "wraps");
            iommu.map(HOST, 0x100000, MB, true, true);
            DmaRangeException e = assertThrows(DmaRangeException.class,
                    () -> iommu.map(HOST, 0x180000, MB, true, false));
            assertTrue(e.getMessage().contains("live mapping"), e.getMessage());
            assertEquals(1, rig.kernel.ioctlCount("VFIO_IOMMU_MAP_DMA"));
        }
    }

    @Test
    void mapUnmapTracksMappingsAndDmaAvailable() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            Type1Iommu iommu = s.iommu();
            DmaMapping low = iommu.map(HOST, 0, 0xc0000000L, true, true);
            DmaMapping high = iommu.map(HOST + 0xc0000000L, 0x100000000L, 0x40000000L, true, false);
            assertEquals(List.of(low, high), iommu.mappings());
            assertEquals(2, rig.kernel.liveDmaMappings());
            assertEquals(65533, iommu.info().dmaAvailable().getAsLong());
            assertEquals(0x40000000L, iommu.unmap(high.iova(), high.size()));
            assertEquals(List.of(low), iommu.mappings());
            assertEquals(65534, iommu.info().dmaAvailable().getAsLong());
        }
        assertEquals(0, rig.kernel.liveDmaMappings());
        assertEquals(0, rig.kernel.droppedDmaMappings(), "close unmapped explicitly, the kernel dropped nothing");
    }

    @Test
    void v2RefusesToSplitAMappingAndTheMappingStaysTracked() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            Type1Iommu iommu = s.iommu();
            iommu.map(HOST, 0x200000, 4 * MB, true, true);
            SyscallException e = assertThrows(SyscallException.class, () -> iommu.unmap(0x200000, MB));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("VFIO_IOMMU_UNMAP_DMA"), e.getMessage());
            assertTrue(e.getMessage().contains("iova 0x200000 size 0x100000"), e.getMessage());
            assertEquals(1, iommu.mappings().size());
        }
        assertEquals(0, rig.kernel.droppedDmaMappings());
    }

    @Test
    void kernelEnospcWhenOutOfDmaEntriesNamesTheIoctl() {
        rig.kernel.dmaEntryLimit(2);
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            Type1Iommu iommu = s.iommu();
            iommu.map(HOST, 0, 0x1000, true, true);
            iommu.map(HOST, 0x2000, 0x1000, true, true);
            SyscallException e = assertThrows(SyscallException.class, () -> iommu.map(HOST, 0x4000, 0x1000, true,
                    true));
            assertEquals(Errno.ENOSPC, e.errno());
            assertTrue(e.getMessage().contains("VFIO_IOMMU_MAP_DMA"));
            assertTrue(e.getMessage().contains("ENOSPC"));
            assertEquals(2, iommu.mappings().size());
        }
        assertEquals(0, rig.kernel.droppedDmaMappings());
    }

    @Test
    void type1IsTheFallbackWhenV2IsMissing() {
        rig.kernel.extensions(VfioConstants.VFIO_TYPE1_IOMMU);
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            assertEquals(VfioConstants.VFIO_TYPE1_IOMMU, s.iommu().type());
        }
        rig.kernel.extensions();
        assertThrows(org.vfio4j.vfio.errors.VfioException.class, () -> rig.vfio.openPciDevice(FakeRig.NIC));
        assertEquals(0, rig.kernel.openFakeFds(), "a failed open closes what it opened");
    }

    @Test
    void closingTheIommuTwiceIsHarmless() {
        try (VfioStack s = rig.vfio.openPciDevice(FakeRig.NIC)) {
            s.iommu().map(HOST, 0, 0x1000, true, true);
            s.iommu().close();
            s.iommu().close();
            assertEquals(0, rig.kernel.liveDmaMappings());
            assertTrue(s.iommu().isClosed());
            assertThrows(IllegalStateException.class, () -> s.iommu().map(HOST, 0, 0x1000, true, true));
        }
    }
}
