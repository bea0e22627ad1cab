package org.vfio4j.vfio.iommufd;

import com.sun.jna.Memory;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.iommufd.IommufdLayouts.Destroy;
import org.vfio4j.vfio.iommufd.IommufdLayouts.IoasAlloc;

/**
 * An open iommufd ({@code /dev/iommu}): the context that VFIO device cdevs bind to and that owns IO address spaces
 * (IOAS). It owns the fd; closing it frees every object the kernel still holds for it.
 */
public final class Iommufd implements AutoCloseable {
    /** The iommufd device node. */
    public static final String PATH = "/dev/iommu";

    private final FileDescriptor fd;

    private Iommufd(FileDescriptor fd) {
        this.fd = fd;
    }

    /** Opens {@code /dev/iommu}. */
    public static Iommufd open(Syscalls sys) {
        return new Iommufd(FileDescriptor.open(sys, PATH, Linux.O_RDWR));
    }

    /** The iommufd fd (passed to {@code VFIO_DEVICE_BIND_IOMMUFD}). */
    public FileDescriptor descriptor() {
        return fd;
    }

    /** {@code IOMMU_IOAS_ALLOC}: a new, empty IO address space; the caller owns it. */
    public IommufdIoas allocateIoas() {
        Memory m = new Memory(IoasAlloc.SIZE);
        m.clear();
        m.setInt(IoasAlloc.STRUCT_SIZE, IoasAlloc.SIZE);
        fd.ioctl(IommufdIoctls.IOMMU_IOAS_ALLOC, m);
        return new IommufdIoas(this, m.getInt(IoasAlloc.OUT_IOAS_ID));
    }

    /** {@code IOMMU_DESTROY} of object {@code id}; EBUSY while a device is still attached to it. */
    void destroy(int id) {
        Memory m = new Memory(Destroy.SIZE);
        m.clear();
        m.setInt(Destroy.STRUCT_SIZE, Destroy.SIZE);
        m.setInt(Destroy.ID, id);
        int r = fd.ioctlRaw(IommufdIoctls.IOMMU_DESTROY, m);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), IommufdIoctls.IOMMU_DESTROY.name(), -r, "object " + id);
        }
    }

    /** True once closed. */
    public boolean isClosed() {
        return fd.isClosed();
    }

    /** Closes the fd; idempotent. */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return fd.name() + (fd.isClosed() ? " (closed)" : "");
    }
}
