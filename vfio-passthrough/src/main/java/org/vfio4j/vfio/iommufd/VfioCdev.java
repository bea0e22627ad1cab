package org.vfio4j.vfio.iommufd;

import com.sun.jna.Memory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.iommufd.IommufdLayouts.AttachIommufdPt;
import org.vfio4j.vfio.iommufd.IommufdLayouts.BindIommufd;
import org.vfio4j.vfio.iommufd.IommufdLayouts.DetachIommufdPt;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * The per-device VFIO character device ({@code /dev/vfio/devices/vfioN}): finding it through sysfs, and the three
 * ioctls that tie an opened device fd to an iommufd and one of its IO address spaces.
 */
public final class VfioCdev {
    /** Where the kernel creates the device nodes. */
    public static final String DEVICES_DIR = "/dev/vfio/devices";
    /** The prefix of a cdev registered in the unsafe no-IOMMU mode ({@code noiommu-vfioN}). */
    public static final String NOIOMMU_PREFIX = "noiommu-";

    private VfioCdev() {
    }

    /**
     * The cdev name of a device bound to a VFIO driver ({@code vfio0}, or {@code noiommu-vfio0} in no-IOMMU mode),
     * from its sysfs {@code vfio-dev/} directory; empty when the kernel has no VFIO cdevs or the device isn't bound.
     */
    public static Optional<String> nameOf(Sysfs sysfs, String bdfOrPath) {
        Path dir = sysfs.deviceDir(bdfOrPath).resolve("vfio-dev");
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> names = entries.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("vfio") || n.startsWith(NOIOMMU_PREFIX + "vfio")).sorted().toList();
            return names.stream().findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The device node of cdev {@code name}. */
    public static String path(String name) {
        return DEVICES_DIR + "/" + name;
    }

    /**
     * {@code VFIO_DEVICE_BIND_IOMMUFD}: binds the device to {@code iommufdFd} (also a no-IOMMU device: the iommufd
     * then only proves ownership). Returns the device id within that iommufd. Until this succeeds the device fd
     * accepts no other ioctl.
     */
    public static int bind(FileDescriptor device, int iommufdFd) {
        Memory m = new Memory(BindIommufd.SIZE);
        m.clear();
        m.setInt(BindIommufd.ARGSZ, BindIommufd.SIZE);
        m.setInt(BindIommufd.IOMMUFD, iommufdFd);
        int r = device.ioctlRaw(IommufdIoctls.VFIO_DEVICE_BIND_IOMMUFD, m);
        if (r < 0) {
            throw new SyscallException("ioctl", device.name(), IommufdIoctls.VFIO_DEVICE_BIND_IOMMUFD.name(), -r,
                    "iommufd fd " + iommufdFd);
        }
        return m.getInt(BindIommufd.OUT_DEVID);
    }

    /** {@code VFIO_DEVICE_ATTACH_IOMMUFD_PT}: DMA of the device now goes through IOAS (or HWPT) {@code ptId}. */
    public static int attach(FileDescriptor device, int ptId) {
        Memory m = new Memory(AttachIommufdPt.SIZE);
        m.clear();
        m.setInt(AttachIommufdPt.ARGSZ, AttachIommufdPt.SIZE);
        m.setInt(AttachIommufdPt.PT_ID, ptId);
        int r = device.ioctlRaw(IommufdIoctls.VFIO_DEVICE_ATTACH_IOMMUFD_PT, m);
        if (r < 0) {
            throw new SyscallException("ioctl", device.name(), IommufdIoctls.VFIO_DEVICE_ATTACH_IOMMUFD_PT.name(),
                    -r, "pt " + ptId);
        }
        return m.getInt(AttachIommufdPt.PT_ID);
    }

    /** {@code VFIO_DEVICE_DETACH_IOMMUFD_PT}: the device loses its page table (DMA is blocked). */
    public static void detach(FileDescriptor device) {
        Memory m = new Memory(DetachIommufdPt.SIZE);
        m.clear();
        m.setInt(DetachIommufdPt.ARGSZ, DetachIommufdPt.SIZE);
        device.ioctl(IommufdIoctls.VFIO_DEVICE_DETACH_IOMMUFD_PT, m);
    }
}
