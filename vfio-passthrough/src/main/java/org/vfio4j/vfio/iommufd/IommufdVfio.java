package org.vfio4j.vfio.iommufd;

import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.errors.VfioException;

/**
 * The iommufd / VFIO cdev backend's entry point: opens a device through {@code /dev/vfio/devices/vfioN}, binds it to
 * a new iommufd and attaches it to a new IOAS, the counterpart of {@link Vfio#openPciDevice(String)} for the legacy
 * group/container backend. The unsafe no-IOMMU mode is used only through {@link #openPciDeviceWithoutIommu(String)};
 * {@link #openPciDevice(String)} refuses a device that has no IOMMU, before opening anything.
 */
public final class IommufdVfio {
    private final Vfio vfio;

    /** On the seam and sysfs view of {@code vfio}. */
    @Inject
    public IommufdVfio(Vfio vfio) {
        this.vfio = vfio;
    }

    /** On the real kernel and the host's sysfs. */
    public static IommufdVfio host() {
        return new IommufdVfio(Vfio.host());
    }

    /**
     * True when the host kernel offers this backend: {@code /dev/iommu} exists (CONFIG_IOMMUFD) and
     * {@code /dev/vfio/devices} does (CONFIG_VFIO_DEVICE_CDEV).
     */
    public static boolean hostSupported() {
        return Files.exists(Path.of(Iommufd.PATH)) && Files.isDirectory(Path.of(VfioCdev.DEVICES_DIR));
    }

    /** The cdev name of a device, if the kernel made one (see {@link VfioCdev#nameOf}). */
    public Optional<String> cdevOf(String bdfOrPath) {
        return VfioCdev.nameOf(vfio.sysfs(), bdfOrPath);
    }

    /**
     * Opens the device's cdev, binds it to a new iommufd, allocates an IOAS and attaches the device to it. The IOAS's
     * allowed ranges are re-read after the attach (the device's reserved regions, such as the MSI window, are cut
     * out then). On failure, whatever was opened is closed again.
     *
     * @throws VfioException when the device has no cdev, or its cdev is a no-IOMMU one (use
     *     {@link #openPciDeviceWithoutIommu(String)} to ask for that explicitly)
     */
    public CdevStack openPciDevice(String bdfOrPath) {
        String name = vfio.sysfs().deviceName(bdfOrPath);
        String cdev = requireCdev(bdfOrPath, name);
        if (cdev.startsWith(VfioCdev.NOIOMMU_PREFIX)) {
            throw new VfioException(name + ": its VFIO cdev " + cdev + " has no IOMMU behind it (the kernel's unsafe "
                    + "no-IOMMU mode); DMA would reach all of host memory. Refused; openPciDeviceWithoutIommu asks "
                    + "for it explicitly");
        }
        Iommufd iommufd = Iommufd.open(vfio.syscalls());
        IommufdIoas ioas = null;
        FileDescriptor fd = null;
        try {
            ioas = iommufd.allocateIoas();
            fd = FileDescriptor.open(vfio.syscalls(), VfioCdev.path(cdev), Linux.O_RDWR);
            int devId = VfioCdev.bind(fd, iommufd.descriptor().fd());
            VfioCdev.attach(fd, ioas.id());
            ioas.invalidate();
            return new CdevStack(iommufd, ioas, VfioDevice.ofCdev(fd, name), devId, cdev);
        } catch (RuntimeException e) {
            Closer.closeAfter(e, fd, ioas, iommufd);
            throw e;
        }
    }

    /**
     * Opens a no-IOMMU device's cdev ({@code noiommu-vfioN}, which the kernel creates only for a device without an
     * IOMMU when {@code vfio.enable_unsafe_noiommu_mode} is set): binds it to a new iommufd, which then only
     * proves ownership; there is no IOAS and no DMA isolation. Only for a caller that asked for it explicitly.
     *
     * @throws VfioException when the device's cdev is not a no-IOMMU one (it has an IOMMU: use
     *     {@link #openPciDevice(String)})
     */
    public CdevStack openPciDeviceWithoutIommu(String bdfOrPath) {
        String name = vfio.sysfs().deviceName(bdfOrPath);
        String cdev = requireCdev(bdfOrPath, name);
        if (!cdev.startsWith(VfioCdev.NOIOMMU_PREFIX)) {
            throw new VfioException(name + ": its VFIO cdev " + cdev + " has an IOMMU behind it; the no-IOMMU mode "
                    + "is only for devices without one (use openPciDevice)");
        }
        Iommufd iommufd = Iommufd.open(vfio.syscalls());
        FileDescriptor fd = null;
        try {
            fd = FileDescriptor.open(vfio.syscalls(), VfioCdev.path(cdev), Linux.O_RDWR);
            int devId = VfioCdev.bind(fd, iommufd.descriptor().fd());
            return new CdevStack(iommufd, null, VfioDevice.ofCdev(fd, name), devId, cdev);
        } catch (RuntimeException e) {
            if (fd != null) {
                fd.close();
            }
            iommufd.close();
            throw e;
        }
    }

    private String requireCdev(String bdfOrPath, String name) {
        return cdevOf(bdfOrPath).orElseThrow(() -> new VfioException(name + ": no VFIO cdev (no vfio-dev/ in its "
                + "sysfs directory): the kernel lacks CONFIG_VFIO_DEVICE_CDEV, or the device isn't bound to vfio-pci"));
    }
}
