package org.vfio4j.vfio.iommufd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.sysfs.Sysfs;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioKernel;

/**
 * The host-side rules of the cdev backend on a fake sysfs: finding a device's cdev, refusing the no-IOMMU mode
 * unless asked (before anything is opened), the AUTO backend choice, and the IOVA holes between allowed ranges.
 * The kernel side runs in the testbed on the next kernel ({@code IommufdTestbedTest}).
 */
class IommufdVfioTest {
    private static final String PROTECTED = "0000:01:00.0";
    private static final String NOIOMMU = "0000:02:00.0";
    private static final String NO_CDEV = "0000:03:00.0";

    @TempDir
    Path root;
    private Sysfs sysfs;
    private FakeVfioKernel kernel;
    private IommufdVfio backend;

    @BeforeEach
    void tree() throws Exception {
        FakeSysfs fake = new FakeSysfs(root).pciDevice(PROTECTED, 5, "vfio-pci").pciDevice(NOIOMMU, 6, "vfio-pci")
                .pciDevice(NO_CDEV, 7, "vfio-pci");
        sysfs = fake.sysfs();
        Files.createDirectories(sysfs.deviceDir(PROTECTED).resolve("vfio-dev/vfio3"));
        Files.createDirectories(sysfs.deviceDir(NOIOMMU).resolve("vfio-dev/noiommu-vfio4"));
        kernel = new FakeVfioKernel();
        backend = new IommufdVfio(new Vfio(kernel, sysfs));
    }

    @Test
    void theCdevIsFoundThroughSysfs() {
        assertEquals(Optional.of("vfio3"), backend.cdevOf(PROTECTED));
        assertEquals(Optional.of("noiommu-vfio4"), backend.cdevOf(NOIOMMU));
        assertEquals(Optional.empty(), backend.cdevOf(NO_CDEV));
        assertEquals("/dev/vfio/devices/vfio3", VfioCdev.path("vfio3"));
    }

    @Test
    void aNoIommuDeviceIsRefusedBeforeAnythingIsOpened() {
        VfioException e = assertThrows(VfioException.class, () -> backend.openPciDevice(NOIOMMU));
        assertTrue(e.getMessage().contains("no-IOMMU"), e.getMessage());
        assertTrue(e.getMessage().contains("noiommu-vfio4"), e.getMessage());
        assertEquals(List.of(), kernel.ioctlLog());
        assertEquals(0, kernel.openFakeFds());
    }

    @Test
    void theNoIommuModeIsOnlyForDevicesWithoutAnIommu() {
        VfioException e = assertThrows(VfioException.class, () -> backend.openPciDeviceWithoutIommu(PROTECTED));
        assertTrue(e.getMessage().contains("has an IOMMU"), e.getMessage());
        assertEquals(List.of(), kernel.ioctlLog());
    }

    @Test
    void aDeviceWithoutCdevIsExplained() {
        VfioException e = assertThrows(VfioException.class, () -> backend.openPciDevice(NO_CDEV));
        assertTrue(e.getMessage().contains("CONFIG_VFIO_DEVICE_CDEV"), e.getMessage());
    }

    @Test
    void autoPrefersTheCdevWhenTheKernelHasIommufd() {
        assertEquals(VfioBackend.IOMMUFD_CDEV, VfioBackend.AUTO.resolve(sysfs, PROTECTED, true));
        assertEquals(VfioBackend.LEGACY_CONTAINER, VfioBackend.AUTO.resolve(sysfs, PROTECTED, false));
        assertEquals(VfioBackend.LEGACY_CONTAINER, VfioBackend.AUTO.resolve(sysfs, NO_CDEV, true));
        assertEquals(VfioBackend.LEGACY_CONTAINER, VfioBackend.AUTO.resolve(sysfs, NOIOMMU, true),
                "AUTO never picks the no-IOMMU mode");
        assertEquals(VfioBackend.IOMMUFD_CDEV, VfioBackend.IOMMUFD_CDEV.resolve(sysfs, NO_CDEV, false));
    }

    @Test
    void holesAreTheComplementOfTheAllowedRanges() {
        // What the kernel reports for an IOAS with a device behind VT-d attached: all but the MSI window, 48 bits.
        List<IovaRange> allowed = List.of(new IovaRange(0, 0xfedfffffL), new IovaRange(0xfef00000L, 0xffffffffffffL));
        assertEquals(List.of(IovaRange.X86_MSI_WINDOW, new IovaRange(0x1000000000000L, -1L)),
                IovaHoles.between(allowed));
        assertEquals(List.of(), IovaHoles.between(List.of(new IovaRange(0, -1L))), "the whole space: no hole");
        assertEquals(List.of(), IovaHoles.between(List.of()), "no ranges reported: nothing to check");
        assertEquals(List.of(new IovaRange(0, 0xfff)), IovaHoles.between(List.of(new IovaRange(0x1000, -1L))));
    }
}
