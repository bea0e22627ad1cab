package org.vfio4j.vfio.reset;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.errors.HotResetRefusedException;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * PCI hot reset of a vfio-pci device: the dependency query and the reset itself.
 *
 * <p>The query starts with room for no devices; the kernel answers ENOSPC and writes the count it needs, and the
 * query repeats with that room. A kernel that keeps answering ENOSPC (devices appearing between calls, or a broken
 * fake) is given up on after a few rounds instead of looping.
 */
public final class PciHotReset {
    /** How many ENOSPC answers we accept before giving up. */
    static final int MAX_ROUNDS = 4;
    /** More dependent devices than a PCI segment can hold is not an answer we trust. */
    static final int MAX_DEVICES = 256 * 32 * 8;

    private PciHotReset() {
    }

    /**
     * {@code VFIO_DEVICE_GET_PCI_HOT_RESET_INFO} on {@code device}.
     *
     * @throws SyscallException ENODEV when the device can't be hot reset, ENOSPC when the kernel kept asking for
     *     more room, or what the kernel answered
     */
    public static HotResetInfo query(FileDescriptor device) {
        int room = 0;
        int lastWanted = -1;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            int argsz = VfioLayouts.HotResetInfo.SIZE + room * VfioLayouts.HotResetInfo.DEVICE_SIZE;
            Memory m = new Memory(argsz);
            m.clear();
            m.setInt(VfioLayouts.HotResetInfo.ARGSZ, argsz);
            int r = device.ioctlRaw(VfioIoctls.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, m);
            int count = m.getInt(VfioLayouts.HotResetInfo.COUNT);
            if (r == -Errno.ENOSPC) {
                if (count <= room || count > MAX_DEVICES) {
                    throw new SyscallException("ioctl", device.name(),
                            VfioIoctls.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.name(), Errno.ENOSPC,
                            "kernel answered ENOSPC with count " + Integer.toUnsignedString(count) + " for room "
                                    + room + "; not a usable count");
                }
                lastWanted = count;
                room = count;
                continue;
            }
            if (r < 0) {
                throw new SyscallException("ioctl", device.name(),
                        VfioIoctls.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.name(), -r);
            }
            if (count < 0 || count > room) {
                throw new SyscallException("ioctl", device.name(),
                        VfioIoctls.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.name(), Errno.EIO,
                        "kernel reported " + Integer.toUnsignedString(count) + " devices in room for " + room);
            }
            List<DependentDevice> devices = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long at = VfioLayouts.HotResetInfo.DEVICES + (long) i * VfioLayouts.HotResetInfo.DEVICE_SIZE;
                devices.add(new DependentDevice(m.getInt(at + VfioLayouts.HotResetInfo.DEVICE_GROUP_ID),
                        Short.toUnsignedInt(m.getShort(at + VfioLayouts.HotResetInfo.DEVICE_SEGMENT)),
                        Byte.toUnsignedInt(m.getByte(at + VfioLayouts.HotResetInfo.DEVICE_BUS)),
                        Byte.toUnsignedInt(m.getByte(at + VfioLayouts.HotResetInfo.DEVICE_DEVFN))));
            }
            return new HotResetInfo(m.getInt(VfioLayouts.HotResetInfo.FLAGS), devices);
        }
        throw new SyscallException("ioctl", device.name(), VfioIoctls.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.name(),
                Errno.ENOSPC, "still ENOSPC after " + MAX_ROUNDS + " rounds (last asked for " + lastWanted
                        + " devices); the dependency set keeps changing");
    }

    /**
     * Throws unless {@code owned} holds every group a hot reset described by {@code info} affects.
     *
     * @param who the device asked to reset, for the message
     * @throws HotResetRefusedException naming the groups not owned and the devices in them
     */
    public static void requireOwned(String who, HotResetInfo info, Set<Integer> owned) {
        Set<Integer> missing = new TreeSet<>(info.groupIds());
        missing.removeAll(owned);
        if (!missing.isEmpty()) {
            List<String> blocked = new ArrayList<>();
            for (DependentDevice d : info.devices()) {
                if (missing.contains(d.groupId())) {
                    blocked.add(d.toString());
                }
            }
            throw new HotResetRefusedException(who + ": PCI hot reset refused: it also resets "
                    + String.join(", ", blocked) + ", whose group(s) " + missing + " the caller does not own",
                    missing);
        }
    }

    /**
     * {@code VFIO_DEVICE_PCI_HOT_RESET}: resets every device in {@code info}. The caller must own every affected
     * group; {@code ownedGroups} maps group id to the open group fd.
     *
     * @throws HotResetRefusedException before the ioctl, naming the groups the caller doesn't own and the devices in
     *     them
     */
    public static void reset(FileDescriptor device, HotResetInfo info,
            Map<Integer, FileDescriptor> ownedGroups) {
        Set<Integer> needed = info.groupIds();
        requireOwned(device.name(), info, ownedGroups.keySet());
        int argsz = VfioLayouts.HotReset.SIZE + 4 * needed.size();
        Memory m = new Memory(argsz);
        m.clear();
        m.setInt(VfioLayouts.HotReset.ARGSZ, argsz);
        m.setInt(VfioLayouts.HotReset.COUNT, needed.size());
        int i = 0;
        for (int group : needed) {
            m.setInt(VfioLayouts.HotReset.GROUP_FDS + 4L * i++, ownedGroups.get(group).fd());
        }
        int r = device.ioctlRaw(VfioIoctls.VFIO_DEVICE_PCI_HOT_RESET, m);
        if (r < 0) {
            throw new SyscallException("ioctl", device.name(), VfioIoctls.VFIO_DEVICE_PCI_HOT_RESET.name(), -r,
                    "groups " + needed);
        }
    }
}
