package org.vfio4j.vfio;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.sun.jna.Memory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.errors.GroupNotViableException;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.sysfs.Sysfs;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts.GroupStatus;

/**
 * An open VFIO group ({@code /dev/vfio/N}). It owns the group fd; {@link #close()} closes the devices still open from
 * it, detaches it from its container, and closes the fd, each step once.
 */
public final class VfioGroup implements AutoCloseable {
    private final FileDescriptor fd;
    private final int id;
    private final Sysfs sysfs;
    private final List<VfioDevice> openDevices = new ArrayList<>();
    private VfioContainer container;
    private boolean closed;

    private VfioGroup(FileDescriptor fd, int id, Sysfs sysfs) {
        this.fd = fd;
        this.id = id;
        this.sysfs = sysfs;
    }

    /** Opens {@code /dev/vfio/<id>}. Doesn't require viability; {@link #requireViable()} does. */
    public static VfioGroup open(Syscalls sys, Sysfs sysfs, int id) {
        return new VfioGroup(FileDescriptor.open(sys, "/dev/vfio/" + id, Linux.O_RDWR), id, sysfs);
    }

    /**
     * Opens {@code /dev/vfio/noiommu-<id>}, the group the kernel makes for a device without an IOMMU in its unsafe
     * no-IOMMU mode ({@code vfio.enable_unsafe_noiommu_mode=1}). Its container takes only
     * {@link VfioContainer#setNoIommu()}; a device in it can DMA to any host memory.
     */
    public static VfioGroup openNoIommu(Syscalls sys, Sysfs sysfs, int id) {
        return new VfioGroup(FileDescriptor.open(sys, "/dev/vfio/noiommu-" + id, Linux.O_RDWR), id, sysfs);
    }

    /** The IOMMU group number. */
    public int id() {
        return id;
    }

    /** The group fd (for hot reset and the KVM-VFIO device). */
    public FileDescriptor descriptor() {
        return fd;
    }

    private boolean containerSet() {
        try {
            return (status() & org.vfio4j.vfio.uapi.VfioConstants.VFIO_GROUP_FLAGS_CONTAINER_SET) != 0;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** {@code VFIO_GROUP_GET_STATUS}: the {@code VFIO_GROUP_FLAGS_*}. */
    public int status() {
        Memory m = new Memory(GroupStatus.SIZE);
        m.clear();
        m.setInt(GroupStatus.ARGSZ, GroupStatus.SIZE);
        fd.ioctl(VfioIoctls.VFIO_GROUP_GET_STATUS, m);
        return m.getInt(GroupStatus.FLAGS);
    }

    /** True when every device in the group is bound to vfio (or is otherwise harmless). */
    public boolean isViable() {
        return (status() & VFIO_GROUP_FLAGS_VIABLE) != 0;
    }

    /**
     * Throws unless the group is viable. The error names each device in {@code /sys/kernel/iommu_groups/N/devices}
     * that isn't bound to vfio-pci, with the driver it is bound to.
     */
    public void requireViable() {
        if (!isViable()) {
            throw new GroupNotViableException(id, offenders(sysfs, id));
        }
    }

    /** The devices of group {@code id} not bound to vfio-pci, e.g. {@code "0000:00:1f.3 (bound to snd_hda_intel)"}. */
    public static List<String> offenders(Sysfs sysfs, int id) {
        List<String> out = new ArrayList<>();
        for (String dev : sysfs.groupDevices(id)) {
            Optional<String> driver = sysfs.driverOf(id, dev);
            if (driver.isEmpty()) {
                out.add(dev + " (no driver)");
            } else if (!driver.get().equals("vfio-pci")) {
                out.add(dev + " (bound to " + driver.get() + ")");
            }
        }
        return out;
    }

    /** The container this group is attached to, or null. */
    public synchronized VfioContainer container() {
        return container;
    }

    /**
     * {@code VFIO_GROUP_SET_CONTAINER}. Checks viability first so a refusal names the devices at fault. Usually
     * called through {@link VfioContainer#attach(VfioGroup)}.
     */
    synchronized void setContainer(VfioContainer c) {
        if (container != null) {
            throw new VfioException("VFIO group " + id + " is already attached to " + container);
        }
        requireViable();
        Memory m = new Memory(4);
        m.setInt(0, c.descriptor().fd());
        int r = fd.ioctlRaw(VfioIoctls.VFIO_GROUP_SET_CONTAINER, m);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), VfioIoctls.VFIO_GROUP_SET_CONTAINER.name(), -r,
                    "container " + c.descriptor().name());
        }
        container = c;
    }

    /**
     * {@code VFIO_GROUP_UNSET_CONTAINER}, after closing the devices still open from this group (the kernel refuses
     * with EBUSY otherwise). If this is the container's last group, the container first unmaps its DMA.
     */
    public synchronized void detach() {
        if (container == null) {
            return;
        }
        closeDevices();
        VfioContainer c = container;
        c.groupDetaching(this);
        container = null;
        try {
            int r = fd.ioctlRaw(VfioIoctls.VFIO_GROUP_UNSET_CONTAINER, 0L);
            // When the group's last device was removed from vfio-pci (host unbind after a REQ), the kernel has
            // already detached the group from its container and answers EINVAL: nothing is left to undo.
            if (r < 0 && !(r == -org.vfio4j.core.sys.Errno.EINVAL && !containerSet())) {
                throw new org.vfio4j.core.sys.SyscallException("ioctl", fd.name(),
                        VfioIoctls.VFIO_GROUP_UNSET_CONTAINER.name(), -r, null);
            }
        } finally {
            c.groupDetached(this);
        }
    }

    /**
     * {@code VFIO_GROUP_GET_DEVICE_FD} for the device named {@code name} (a PCI BDF such as {@code 0000:01:00.0}).
     * The group must be attached to a container with an IOMMU set.
     */
    public synchronized VfioDevice openDevice(String name) {
        if (closed) {
            throw new IllegalStateException("VFIO group " + id + " is closed");
        }
        if (container == null || (container.iommu() == null && !container.noIommu())) {
            throw new VfioException("VFIO group " + id + ": attach it to a container and set the IOMMU before "
                    + "opening device " + name);
        }
        byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
        Memory m = new Memory(bytes.length + 1);
        m.write(0, bytes, 0, bytes.length);
        m.setByte(bytes.length, (byte) 0);
        int r = fd.ioctlRaw(VfioIoctls.VFIO_GROUP_GET_DEVICE_FD, m);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), VfioIoctls.VFIO_GROUP_GET_DEVICE_FD.name(), -r,
                    "device " + name);
        }
        VfioDevice d = new VfioDevice(new FileDescriptor(fd.syscalls(), r, "vfio device " + name), name, this);
        openDevices.add(d);
        return d;
    }

    /** The devices opened from this group and not yet closed. */
    public synchronized List<VfioDevice> openDevices() {
        return List.copyOf(openDevices);
    }

    synchronized void forget(VfioDevice d) {
        openDevices.remove(d);
    }

    private void closeDevices() {
        Closer closer = new Closer();
        for (VfioDevice d : new ArrayList<>(openDevices)) {
            closer.close(d);
        }
        openDevices.clear();
        closer.rethrow();
    }

    /** True once closed. */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** Closes open devices, detaches from the container, closes the group fd; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            closeDevices();
            detach();
        } finally {
            fd.close();
        }
    }

    @Override
    public String toString() {
        return "VFIO group " + id + (closed ? " (closed)" : "");
    }
}
