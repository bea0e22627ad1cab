package org.vfio4j.vfio.testbed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.core.kvm.KvmVfioDevice;
import org.vfio4j.core.kvm.KvmVm;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioContainer;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.iommu.DmaMapper;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.iommufd.CdevHotReset;
import org.vfio4j.vfio.iommufd.CdevStack;
import org.vfio4j.vfio.iommufd.IommufdConstants;
import org.vfio4j.vfio.iommufd.IommufdIoas;
import org.vfio4j.vfio.iommufd.IommufdIoctls;
import org.vfio4j.vfio.iommufd.IommufdLayouts;
import org.vfio4j.vfio.iommufd.IommufdVfio;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.reset.HotResetInfo;
import org.vfio4j.vfio.testing.TestbedDevices;
import org.vfio4j.vfio.uapi.VfioConstants;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * The iommufd / VFIO cdev backend against the real kernel: the testbed's "next" kernel (6.12 with IOMMUFD and
 * VFIO_DEVICE_CDEV; testbed/run --kernel next). On Debian's 6.1 the testbed leaves the class out (tag testbed-next),
 * and the assumption on /dev/iommu skips it if it is selected there anyway.
 */
@Tag("testbed")
@Tag("testbed-next")
class IommufdTestbedTest {
    /** edu's registers (QEMU docs/specs/edu.rst): identification, liveness, DMA source/destination/count/command. */
    private static final int EDU_ID = 0x00;
    private static final int EDU_LIVENESS = 0x04;
    private static final int EDU_DMA_SRC = 0x80;
    private static final int EDU_DMA_DST = 0x88;
    private static final int EDU_DMA_COUNT = 0x90;
    private static final int EDU_DMA_CMD = 0x98;
    private static final int EDU_DMA_RUN = 0x1;
    private static final int EDU_DMA_TO_RAM = 0x2;
    /** edu's internal DMA buffer, as the device addresses it. */
    private static final long EDU_BUFFER = 0x40000;
    /** PCI command register, memory space and bus master enable. */
    private static final int PCI_COMMAND = 0x04;
    private static final int PCI_COMMAND_MEMORY = 0x2;
    private static final int PCI_COMMAND_MASTER = 0x4;

    private final Vfio vfio = Vfio.host();
    private final IommufdVfio iommufd = new IommufdVfio(vfio);

    @BeforeAll
    static void needsTheNextKernel() {
        assumeTrue(IommufdVfio.hostSupported(), "no /dev/iommu or /dev/vfio/devices: not the testbed's next kernel "
                + "(VFIO4J_TESTBED_KERNEL=" + System.getenv("VFIO4J_TESTBED_KERNEL") + ")");
    }

    private CdevStack open(String name) {
        return iommufd.openPciDevice(TestbedDevices.bdf(name));
    }

    @Test
    void autoChoosesTheCdevForEveryTestbedDevice() {
        for (String name : List.of("edu", "nvme", "e1000e")) {
            String bdf = TestbedDevices.bdf(name);
            assertTrue(iommufd.cdevOf(bdf).orElseThrow().matches("vfio\\d+"), name + " " + iommufd.cdevOf(bdf));
            assertEquals(VfioBackend.IOMMUFD_CDEV, VfioBackend.AUTO.resolveOnHost(vfio.sysfs(), bdf), name);
        }
    }

    @Test
    void eduDmaRoundTripsThroughAnIommufdIoas() throws Exception {
        int count = 2048;
        try (CdevStack edu = open("edu");
             MemoryMapping ram = MemoryMapping.anonymous(vfio.syscalls(), 2 * Linux.PAGE_SIZE, "edu dma ram")) {
            VfioRegion bar0 = edu.device().region(VfioConstants.VFIO_PCI_BAR0_REGION_INDEX);
            assertEquals(0xedL, bar0.read(EDU_ID, 4) & 0xff, String.format("edu id 0x%x", bar0.read(EDU_ID, 4)));
            bar0.write(EDU_LIVENESS, 4, 0x12345678L);
            assertEquals(~0x12345678L & 0xffffffffL, bar0.read(EDU_LIVENESS, 4), "edu inverts the liveness value");
            VfioRegion config = edu.device().region(VfioConstants.VFIO_PCI_CONFIG_REGION_INDEX);
            config.write(PCI_COMMAND, 2, config.read(PCI_COMMAND, 2) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

            // Two pages, mapped at IOVAs edu's 28-bit DMA mask reaches; the second one two pages away.
            long iovaIn = 0x100000L;
            long iovaOut = 0x104000L;
            DmaMapper dma = edu.dma();
            dma.map(ram.address(), iovaIn, Linux.PAGE_SIZE, true, false);
            dma.map(ram.address() + Linux.PAGE_SIZE, iovaOut, Linux.PAGE_SIZE, true, true);
            assertEquals(2, dma.mappings().size());
            byte[] pattern = new byte[count];
            new Random(18).nextBytes(pattern);
            ram.write(0, pattern, 0, count);

            runEduDma(bar0, iovaIn, EDU_BUFFER, count, 0);
            runEduDma(bar0, EDU_BUFFER, iovaOut, count, EDU_DMA_TO_RAM);
            byte[] back = new byte[count];
            ram.read(Linux.PAGE_SIZE, back, 0, count);
            assertArrayEquals(pattern, back, "RAM -> edu -> RAM through the IOAS");
        }
    }

    private static void runEduDma(VfioRegion bar0, long src, long dst, int count, int direction)
            throws InterruptedException {
        bar0.write(EDU_DMA_SRC, 4, src);
        bar0.write(EDU_DMA_DST, 4, dst);
        bar0.write(EDU_DMA_COUNT, 4, count);
        bar0.write(EDU_DMA_CMD, 4, EDU_DMA_RUN | direction);
        // edu finishes the transfer from a QEMU timer; wait for RUN to clear (TCG can be slow, so allow plenty).
        for (int i = 0; i < 3000 && (bar0.read(EDU_DMA_CMD, 4) & EDU_DMA_RUN) != 0; i++) {
            Thread.sleep(10);
        }
        assertEquals(0, bar0.read(EDU_DMA_CMD, 4) & EDU_DMA_RUN, "edu DMA did not finish");
    }

    @Test
    void theAllowedRangesExcludeTheMsiWindowOnceADeviceIsAttached() {
        try (CdevStack edu = open("edu")) {
            IommufdIoas ioas = edu.ioas();
            List<IovaRange> ranges = ioas.queryRanges().ranges();
            assertFalse(ranges.isEmpty());
            for (IovaRange r : ranges) {
                assertFalse(r.overlaps(IovaRange.X86_MSI_WINDOW), "range " + r + " overlaps the MSI window");
            }
            assertTrue(ioas.reservedHoles().stream().anyMatch(h -> h.contains(IovaRange.X86_MSI_WINDOW)),
                    "holes " + ioas.reservedHoles());
            assertTrue(ranges.stream().anyMatch(r -> r.contains(new IovaRange(0, 0xfedfffffL))), ranges.toString());
            assertTrue(ranges.stream().anyMatch(r -> r.contains(new IovaRange(0xfef00000L, 0xffffffffL))),
                    ranges.toString());
            assertTrue(ioas.queryRanges().alignment() > 0, "alignment " + ioas.queryRanges().alignment());
            // Our pre-check refuses a mapping in the window, and so does the kernel when asked directly.
            assertThrows(DmaRangeException.class, () -> ioas.validate(0xfee00000L, Linux.PAGE_SIZE));
            try (MemoryMapping page = MemoryMapping.anonymous(vfio.syscalls(), Linux.PAGE_SIZE, "msi probe")) {
                int r = rawMap(edu, page.address(), 0xfee00000L, Linux.PAGE_SIZE);
                assertTrue(r < 0, "the kernel mapped IOVA 0xfee00000 (result " + r + ")");
                assertEquals(0, rawMap(edu, page.address(), 0xfed00000L, Linux.PAGE_SIZE), "just below the window");
                assertEquals(Linux.PAGE_SIZE, ioas.unmap(0xfed00000L, Linux.PAGE_SIZE));
            }
        }
    }

    @Test
    void aFreshIoasHasNoReservedHoleUntilADeviceIsAttached() {
        try (CdevStack edu = open("edu");
             IommufdIoas empty = edu.iommufd().allocateIoas()) {
            List<IovaRange> unattached = empty.queryRanges().ranges();
            assertTrue(unattached.stream().anyMatch(r -> r.contains(IovaRange.X86_MSI_WINDOW)),
                    "an IOAS without devices has no reserved regions yet: " + unattached);
            assertNotEquals(unattached, edu.ioas().queryRanges().ranges());
        }
    }

    /** IOMMU_IOAS_MAP straight to the kernel, past the layer's validation; returns 0 or -errno. */
    private static int rawMap(CdevStack stack, long vaddr, long iova, long size) {
        Memory m = new Memory(IommufdLayouts.IoasMap.SIZE);
        m.clear();
        m.setInt(IommufdLayouts.IoasMap.STRUCT_SIZE, IommufdLayouts.IoasMap.SIZE);
        m.setInt(IommufdLayouts.IoasMap.FLAGS, IommufdConstants.IOMMU_IOAS_MAP_FIXED_IOVA
                | IommufdConstants.IOMMU_IOAS_MAP_READABLE | IommufdConstants.IOMMU_IOAS_MAP_WRITEABLE);
        m.setInt(IommufdLayouts.IoasMap.IOAS_ID, stack.ioas().id());
        m.setLong(IommufdLayouts.IoasMap.USER_VA, vaddr);
        m.setLong(IommufdLayouts.IoasMap.LENGTH, size);
        m.setLong(IommufdLayouts.IoasMap.IOVA, iova);
        return stack.iommufd().descriptor().ioctlRaw(IommufdIoctls.IOMMU_IOAS_MAP, m);
    }

    @Test
    void attachAndDetachLeakNoFdsPinnedMemoryOrMappings() throws Exception {
        long pages = 8;
        try (MemoryMapping ram = MemoryMapping.anonymous(vfio.syscalls(), pages * Linux.PAGE_SIZE, "leak ram")) {
            cycle(ram, pages); // warm up: class loading, JNA, first-use allocations
            long fds = openFds();
            long pinned = statusKb("VmPin");
            for (int i = 0; i < 3; i++) {
                cycle(ram, pages);
            }
            assertEquals(fds, openFds(), "open fds after three open/map/close cycles");
            assertEquals(pinned, statusKb("VmPin"), "pinned memory (VmPin) after three cycles");
        }
    }

    /** Opens edu, maps {@code pages} pages, checks the kernel pins them, unmaps and closes. */
    private void cycle(MemoryMapping ram, long pages) throws IOException {
        long before = statusKb("VmPin");
        try (CdevStack edu = open("edu")) {
            for (long p = 0; p < pages; p++) {
                edu.dma().map(ram.address() + p * Linux.PAGE_SIZE, 0x200000L + 2 * p * Linux.PAGE_SIZE,
                        Linux.PAGE_SIZE, true, true);
            }
            assertEquals(before + pages * Linux.PAGE_SIZE / 1024, statusKb("VmPin"),
                    "iommufd pins what is mapped while a device is attached");
            for (var m : edu.dma().mappings()) {
                edu.dma().unmap(m);
            }
            assertEquals(0, edu.ioas().unmapEverything(), "the kernel had mappings this IOAS did not know of");
            assertEquals(before, statusKb("VmPin"), "unmapping unpins");
            edu.dma().map(ram.address(), 0x200000L, Linux.PAGE_SIZE, true, true); // left for close() to undo
        }
        assertEquals(before, statusKb("VmPin"), "closing the stack unpins what was still mapped");
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long statusKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
            }
        }
        throw new AssertionError("no " + field + " in /proc/self/status");
    }

    @Test
    void theNoIommuModeIsOffAndRefusedUnlessAsked() throws Exception {
        Path param = Path.of("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
        assertTrue(Files.exists(param), "the next kernel is built with CONFIG_VFIO_NOIOMMU");
        assertEquals("N", Files.readString(param).trim());
        String bdf = TestbedDevices.bdf("edu");
        // The device has an IOMMU: the explicit no-IOMMU request is refused, and nothing stays open.
        long fds = openFds();
        VfioException e = assertThrows(VfioException.class, () -> iommufd.openPciDeviceWithoutIommu(bdf));
        assertTrue(e.getMessage().contains("has an IOMMU"), e.getMessage());
        assertEquals(fds, openFds());
        // The legacy container never offers the no-IOMMU type while the parameter is off.
        try (VfioContainer container = vfio.openContainer()) {
            assertFalse(container.checkExtension(IommufdConstants.VFIO_NOIOMMU_IOMMU));
            assertTrue(container.checkExtension(VfioConstants.VFIO_TYPE1v2_IOMMU));
        }
    }

    @Test
    void kvmAcceptsTheCdevFdAsAVfioFileAndRefusesOtherFds() {
        assumeTrue(Kvm.available(), "no /dev/kvm");
        try (CdevStack edu = open("edu");
             Kvm kvm = Kvm.open(vfio.syscalls());
             KvmVm vm = kvm.createVm();
             KvmVfioDevice kvmVfio = KvmVfioDevice.create(vm)) {
            int fd = edu.device().descriptor().fd();
            kvmVfio.addFile(fd);
            kvmVfio.removeFile(fd);
            SyscallException e = assertThrows(SyscallException.class,
                    () -> kvmVfio.addFile(edu.iommufd().descriptor().fd()), "an iommufd is not a VFIO file");
            assertTrue(e.getMessage().contains("KVM_DEV_VFIO_FILE_ADD"), e.getMessage());
        }
    }

    @Test
    void nvmeHotResetUsesTheDevIdFormAndTheIommufdAsProofOfOwnership() {
        try (CdevStack nvme = open("nvme")) {
            HotResetInfo info = CdevHotReset.info(nvme.device().descriptor());
            assertTrue(CdevHotReset.devIdForm(info), "flags 0x" + Integer.toHexString(info.flags()));
            String bdf = TestbedDevices.bdf("nvme");
            assertTrue(info.devices().stream().anyMatch(d -> d.bdf().equals(bdf) && d.groupId() == nvme.devId()),
                    "nvme (devid " + nvme.devId() + ") among " + info.devices());
            assertTrue(CdevHotReset.allOwned(info), "nvme is alone behind its root port: " + info.devices());
            assertEquals(List.of(), CdevHotReset.notOwned(info));
            // A group-fd array is refused outright for a cdev-opened device ...
            Memory withFd = new Memory(VfioLayouts.HotReset.SIZE + 4);
            withFd.clear();
            withFd.setInt(VfioLayouts.HotReset.ARGSZ, VfioLayouts.HotReset.SIZE + 4);
            withFd.setInt(VfioLayouts.HotReset.COUNT, 1);
            withFd.setInt(VfioLayouts.HotReset.GROUP_FDS, nvme.iommufd().descriptor().fd());
            assertEquals(-Errno.EINVAL, nvme.device().descriptor().ioctlRaw(VfioIoctls.VFIO_DEVICE_PCI_HOT_RESET,
                    withFd));
            // ... while the empty one passes the ownership checks and reaches the bus reset. On the testbed's
            // emulated root port that reset itself fails: the kernel waits for Data Link Layer Link Active after the
            // secondary bus reset, does not see it within 100 ms under TCG ("Link Active not set" in dmesg) and
            // answers ENOTTY. Ownership errors would be EINVAL or EPERM.
            try {
                CdevHotReset.reset(nvme.device().descriptor());
            } catch (SyscallException e) {
                assertEquals(Errno.ENOTTY, e.errno(), e.getMessage());
            }
            VfioRegion config = nvme.device().region(VfioConstants.VFIO_PCI_CONFIG_REGION_INDEX);
            assertEquals(0x1b36L, config.read(0, 2), "the nvme answers config reads after the reset");
        }
    }

    @Test
    void theGroupIsBlockedWhileTheCdevHoldsTheDeviceAndUsableAfterwards() {
        // Both backends on one kernel, never at once for one device: the kernel blocks the group while a cdev is
        // bound, and the legacy path works again once the cdev backend has released the device.
        String bdf = TestbedDevices.bdf("edu");
        try (CdevStack edu = open("edu")) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> vfio.openPciDevice(bdf).close());
            assertTrue(e.getMessage().contains("EBUSY"), e.getMessage());
        }
        try (var legacy = vfio.openPciDevice(bdf)) {
            assertTrue(legacy.iommu().iovaRanges().stream().noneMatch(r -> r.overlaps(IovaRange.X86_MSI_WINDOW)));
        }
    }
}
