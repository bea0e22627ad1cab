package org.vfio4j.vfio;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.caps.CapabilityChain;
import org.vfio4j.vfio.caps.InfoQuery;
import org.vfio4j.vfio.caps.RawCapability;
import org.vfio4j.vfio.irq.IrqControl;
import org.vfio4j.vfio.irq.IrqInfo;
import org.vfio4j.vfio.irq.PciIrqs;
import org.vfio4j.vfio.region.PciRegions;
import org.vfio4j.vfio.region.RegionCapability;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.reset.HotResetInfo;
import org.vfio4j.vfio.reset.PciHotReset;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * A VFIO device fd, obtained from its group with {@link VfioGroup#openDevice(String)}, or opened as a cdev
 * ({@code /dev/vfio/devices/vfioN}, see {@link #ofCdev}) with no group. The caller owns it;
 * {@link #close()} is idempotent, and the group closes devices that are still open when it is closed itself (the
 * kernel won't detach a group from its container while a device fd is open).
 */
public final class VfioDevice implements AutoCloseable {
    private final FileDescriptor fd;
    private final String name;
    private final VfioGroup group;
    private final IrqControl irqs;
    private DeviceInfo info;

    VfioDevice(FileDescriptor fd, String name, VfioGroup group) {
        this.fd = fd;
        this.name = name;
        this.group = group;
        this.irqs = new IrqControl(fd);
    }

    /**
     * A device fd opened through its cdev and bound to an iommufd (org.vfio4j.vfio.iommufd); it has no group, so
     * {@link #group()} is null and a hot reset goes through the cdev rules instead of {@link #hotReset}.
     */
    public static VfioDevice ofCdev(FileDescriptor fd, String name) {
        return new VfioDevice(fd, name, null);
    }

    /** The device name (its BDF for PCI). */
    public String name() {
        return name;
    }

    /** The group this device was opened from; null for a cdev-opened device. */
    public VfioGroup group() {
        return group;
    }

    /** The device fd, for the KVM-VFIO device and for callers that need raw access. */
    public FileDescriptor descriptor() {
        return fd;
    }

    /** {@code VFIO_DEVICE_GET_INFO}, cached after the first call. */
    public synchronized DeviceInfo info() {
        if (info == null) {
            InfoQuery.Result r = InfoQuery.query(fd, VfioIoctls.VFIO_DEVICE_GET_INFO, VfioLayouts.DeviceInfo.SIZE,
                    m -> { }, "device info");
            ByteBuffer b = ByteBuffer.wrap(r.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            int flags = b.getInt(VfioLayouts.DeviceInfo.FLAGS);
            CapabilityChain chain = CapabilityChain.empty();
            List<String> problems = new ArrayList<>();
            if ((flags & VFIO_DEVICE_FLAGS_CAPS) != 0) {
                if (!r.complete()) {
                    problems.add("kernel kept asking for a larger buffer (argsz " + r.argsz() + "); caps not read");
                }
                chain = CapabilityChain.walk(r.bytes(), r.bytes().length, VfioLayouts.DeviceInfo.SIZE,
                        Integer.toUnsignedLong(b.getInt(VfioLayouts.DeviceInfo.CAP_OFFSET)));
            }
            problems.addAll(chain.problems());
            info = new DeviceInfo(flags, b.getInt(VfioLayouts.DeviceInfo.NUM_REGIONS),
                    b.getInt(VfioLayouts.DeviceInfo.NUM_IRQS), chain.capabilities(), problems);
        }
        return info;
    }

    /** {@code VFIO_DEVICE_GET_REGION_INFO} for {@code index}, with the capability chain decoded. */
    public RegionInfo regionInfo(int index) {
        String what = "region " + index + " (" + PciRegions.name(index) + ")";
        InfoQuery.Result r = InfoQuery.query(fd, VfioIoctls.VFIO_DEVICE_GET_REGION_INFO, VfioLayouts.RegionInfo.SIZE,
                m -> m.setInt(VfioLayouts.RegionInfo.INDEX, index), what);
        ByteBuffer b = ByteBuffer.wrap(r.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int flags = b.getInt(VfioLayouts.RegionInfo.FLAGS);
        List<String> problems = new ArrayList<>();
        CapabilityChain chain = CapabilityChain.empty();
        if ((flags & VFIO_REGION_INFO_FLAG_CAPS) != 0) {
            if (!r.complete()) {
                problems.add("kernel kept asking for a larger buffer (argsz " + r.argsz() + "); caps not read");
            }
            chain = CapabilityChain.walk(r.bytes(), r.bytes().length, VfioLayouts.RegionInfo.SIZE,
                    Integer.toUnsignedLong(b.getInt(VfioLayouts.RegionInfo.CAP_OFFSET)));
        }
        problems.addAll(chain.problems());
        List<RegionCapability> caps = new ArrayList<>();
        for (RawCapability c : chain.capabilities()) {
            caps.add(RegionCapability.decode(c));
        }
        return new RegionInfo(index, flags, b.getLong(VfioLayouts.RegionInfo.REGION_SIZE),
                b.getLong(VfioLayouts.RegionInfo.OFFSET), caps, problems);
    }

    /**
     * The info of every region index below {@link DeviceInfo#numRegions()} that the device has. vfio-pci counts
     * the VGA index for every PCI device but answers EINVAL for it on a device without VGA ranges; such an index is
     * left out rather than failing the listing. Any other error is thrown.
     */
    public List<RegionInfo> regions() {
        List<RegionInfo> out = new ArrayList<>();
        for (int i = 0; i < info().numRegions(); i++) {
            try {
                out.add(regionInfo(i));
            } catch (SyscallException e) {
                if (!(i == VFIO_PCI_VGA_REGION_INDEX && info().pci() && e.errno() == Errno.EINVAL)) {
                    throw e;
                }
            }
        }
        return out;
    }

    /** Access to region {@code index} (queries its info). */
    public VfioRegion region(int index) {
        return new VfioRegion(fd, regionInfo(index));
    }

    /** {@code VFIO_DEVICE_GET_IRQ_INFO} for {@code index}. */
    public IrqInfo irqInfo(int index) {
        com.sun.jna.Memory m = new com.sun.jna.Memory(VfioLayouts.IrqInfo.SIZE);
        m.clear();
        m.setInt(VfioLayouts.IrqInfo.ARGSZ, VfioLayouts.IrqInfo.SIZE);
        m.setInt(VfioLayouts.IrqInfo.INDEX, index);
        int r = fd.ioctlRaw(VfioIoctls.VFIO_DEVICE_GET_IRQ_INFO, m);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), VfioIoctls.VFIO_DEVICE_GET_IRQ_INFO.name(), -r,
                    "IRQ index " + index + " (" + PciIrqs.name(index) + ")");
        }
        return new IrqInfo(m.getInt(VfioLayouts.IrqInfo.INDEX), m.getInt(VfioLayouts.IrqInfo.FLAGS),
                m.getInt(VfioLayouts.IrqInfo.COUNT));
    }

    /**
     * The info of every IRQ index below {@link DeviceInfo#numIrqs()} that the device has. vfio-pci offers the ERR
     * index only on PCI Express devices and answers EINVAL for it on conventional PCI ones; that index is left out.
     * Any other error is thrown.
     */
    public List<IrqInfo> irqInfos() {
        List<IrqInfo> out = new ArrayList<>();
        for (int i = 0; i < info().numIrqs(); i++) {
            try {
                out.add(irqInfo(i));
            } catch (SyscallException e) {
                if (!(i == VFIO_PCI_ERR_IRQ_INDEX && info().pci() && e.errno() == Errno.EINVAL)) {
                    throw e;
                }
            }
        }
        return out;
    }

    /** SET_IRQS operations on this device. */
    public IrqControl irqs() {
        return irqs;
    }

    /** {@code VFIO_DEVICE_RESET} (function-level or whatever reset the kernel has for the device). */
    public void reset() {
        fd.ioctl(VfioIoctls.VFIO_DEVICE_RESET, 0L);
    }

    /** {@code VFIO_DEVICE_GET_PCI_HOT_RESET_INFO}: the devices a hot reset would also reset, with their groups. */
    public HotResetInfo hotResetInfo() {
        return PciHotReset.query(fd);
    }

    /**
     * {@code VFIO_DEVICE_PCI_HOT_RESET}, passing the fds of the affected groups. This device's group is always
     * included; {@code otherGroups} supplies the rest.
     *
     * @throws org.vfio4j.vfio.errors.HotResetRefusedException before the ioctl when an affected group isn't among them
     */
    public void hotReset(Collection<VfioGroup> otherGroups) {
        if (group == null) {
            throw new IllegalStateException(name + " was opened as a cdev: a hot reset proves ownership through "
                    + "its iommufd, not group fds");
        }
        Map<Integer, FileDescriptor> owned = new LinkedHashMap<>();
        owned.put(group.id(), group.descriptor());
        for (VfioGroup g : otherGroups) {
            owned.put(g.id(), g.descriptor());
        }
        PciHotReset.reset(fd, hotResetInfo(), owned);
    }

    /** True once closed. */
    public boolean isClosed() {
        return fd.isClosed();
    }

    /** Closes the device fd; idempotent. */
    @Override
    public void close() {
        if (!fd.isClosed()) {
            try {
                fd.close();
            } finally {
                if (group != null) {
                    group.forget(this);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "vfio device " + name + (group != null ? " (group " + group.id() + ")" : " (cdev)");
    }
}
