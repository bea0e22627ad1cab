package org.vfio4j.vfio.iommufd;

import static org.vfio4j.vfio.iommufd.IommufdConstants.*;

import com.sun.jna.Memory;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.errors.HotResetRefusedException;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.HotResetInfo;
import org.vfio4j.vfio.reset.PciHotReset;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * PCI hot reset of a device opened as a cdev. Its {@code VFIO_DEVICE_GET_PCI_HOT_RESET_INFO} answer is the dev-id
 * form ({@link IommufdConstants#VFIO_PCI_HOT_RESET_FLAG_DEV_ID}): each entry's first field is a device id within the
 * caller's iommufd (or {@link IommufdConstants#VFIO_PCI_DEVID_OWNED} / {@code _NOT_OWNED}) instead of a group id.
 * Ownership is proven by the iommufd, so the reset passes an empty group-fd array.
 */
public final class CdevHotReset {
    private CdevHotReset() {
    }

    /** The hot-reset info; in the {@link DependentDevice}s, {@code groupId()} carries the device id. */
    public static HotResetInfo info(FileDescriptor device) {
        return PciHotReset.query(device);
    }

    /** True when the info is the dev-id form (the device was opened as a cdev). */
    public static boolean devIdForm(HotResetInfo info) {
        return (info.flags() & VFIO_PCI_HOT_RESET_FLAG_DEV_ID) != 0;
    }

    /** True when the kernel says every affected device is owned through the caller's iommufd. */
    public static boolean allOwned(HotResetInfo info) {
        return devIdForm(info) && (info.flags() & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED) != 0;
    }

    /** The affected devices this iommufd doesn't own. */
    public static List<DependentDevice> notOwned(HotResetInfo info) {
        return info.devices().stream().filter(d -> d.groupId() == VFIO_PCI_DEVID_NOT_OWNED).toList();
    }

    /**
     * {@code VFIO_DEVICE_PCI_HOT_RESET} with an empty group-fd array, after checking that the iommufd owns every
     * affected device.
     *
     * @throws HotResetRefusedException before the ioctl when some affected device isn't owned (its set of "missing
     *     groups" is empty: with cdevs, the blockers are devices, named in the message)
     */
    public static void reset(FileDescriptor device) {
        HotResetInfo info = info(device);
        if (!allOwned(info)) {
            Set<String> blockers = new TreeSet<>();
            for (DependentDevice d : notOwned(info)) {
                blockers.add(d.bdf());
            }
            throw new HotResetRefusedException(device.name() + ": PCI hot reset refused: "
                    + (devIdForm(info) ? "it also resets " + blockers + ", which this iommufd doesn't own"
                            : "the device isn't opened as a cdev (no dev-id hot-reset info)"), Set.of());
        }
        Memory m = new Memory(VfioLayouts.HotReset.SIZE);
        m.clear();
        m.setInt(VfioLayouts.HotReset.ARGSZ, VfioLayouts.HotReset.SIZE);
        m.setInt(VfioLayouts.HotReset.COUNT, 0);
        int r = device.ioctlRaw(VfioIoctls.VFIO_DEVICE_PCI_HOT_RESET, m);
        if (r < 0) {
            throw new SyscallException("ioctl", device.name(), VfioIoctls.VFIO_DEVICE_PCI_HOT_RESET.name(), -r,
                    "empty group-fd array (iommufd ownership)");
        }
    }
}
