package org.vfio4j.vfio;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.ArrayList;
import java.util.List;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.iommu.Type1Iommu;
import org.vfio4j.vfio.uapi.VfioIoctls;

/**
 * A legacy VFIO container ({@code /dev/vfio/vfio}): groups attach to it, and once one has, it gets a type1 IOMMU
 * that all of them share. It owns the container fd and its IOMMU. {@link #close()} unmaps all DMA, detaches the
 * groups still attached (closing their devices), then closes the fd; idempotent.
 */
public final class VfioContainer implements AutoCloseable {
    /** The container device node. */
    public static final String PATH = "/dev/vfio/vfio";

    private final FileDescriptor fd;
    private final List<VfioGroup> groups = new ArrayList<>();
    private Type1Iommu iommu;
    private boolean noIommu;
    private boolean closed;

    private VfioContainer(FileDescriptor fd) {
        this.fd = fd;
    }

    /**
     * Opens {@code /dev/vfio/vfio} and checks the API version.
     *
     * @throws VfioException when the kernel speaks another API version
     */
    public static VfioContainer open(Syscalls sys) {
        FileDescriptor fd = FileDescriptor.open(sys, PATH, Linux.O_RDWR);
        try {
            int version = fd.ioctl(VfioIoctls.VFIO_GET_API_VERSION, 0L);
            if (version != VFIO_API_VERSION) {
                throw new VfioException(PATH + ": VFIO API version " + version + ", this library speaks "
                        + VFIO_API_VERSION);
            }
            return new VfioContainer(fd);
        } catch (RuntimeException | Error e) {
            fd.close();
            throw e;
        }
    }

    /** The container fd. */
    public FileDescriptor descriptor() {
        return fd;
    }

    /** {@code VFIO_GET_API_VERSION}. */
    public int apiVersion() {
        return fd.ioctl(VfioIoctls.VFIO_GET_API_VERSION, 0L);
    }

    /** {@code VFIO_CHECK_EXTENSION}: true when the kernel supports {@code extension} (a VfioConstants id). */
    public boolean checkExtension(int extension) {
        return fd.ioctl(VfioIoctls.VFIO_CHECK_EXTENSION, extension) > 0;
    }

    /** Attaches {@code group} ({@code VFIO_GROUP_SET_CONTAINER}); the group must be viable. */
    public void attach(VfioGroup group) {
        // Never call into a group while holding this lock: groups call back into the container while holding theirs.
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException(PATH + " container is closed");
            }
        }
        group.setContainer(this);
        synchronized (this) {
            groups.add(group);
            if (iommu != null) {
                iommu.invalidate();
            }
        }
    }

    /** The groups attached. */
    public synchronized List<VfioGroup> groups() {
        return List.copyOf(groups);
    }

    /**
     * {@code VFIO_SET_IOMMU} with type1 v2 when the kernel has it, else type1. Needs at least one group attached.
     * Calling it again returns the IOMMU already set.
     */
    public synchronized Type1Iommu setIommu() {
        if (iommu != null) {
            return iommu;
        }
        if (noIommu) {
            throw new VfioException(PATH + ": the container is in no-IOMMU mode");
        }
        if (groups.isEmpty()) {
            throw new VfioException(PATH + ": attach a group before setting the IOMMU (the kernel needs one to know "
                    + "which IOMMU drivers fit)");
        }
        int type;
        if (checkExtension(VFIO_TYPE1v2_IOMMU)) {
            type = VFIO_TYPE1v2_IOMMU;
        } else if (checkExtension(VFIO_TYPE1_IOMMU)) {
            type = VFIO_TYPE1_IOMMU;
        } else {
            throw new VfioException(PATH + ": the kernel offers neither VFIO_TYPE1v2_IOMMU nor VFIO_TYPE1_IOMMU");
        }
        fd.ioctl(VfioIoctls.VFIO_SET_IOMMU, type);
        iommu = new Type1Iommu(fd, type);
        return iommu;
    }

    /**
     * {@code VFIO_SET_IOMMU} with {@code VFIO_NOIOMMU_IOMMU}, for groups opened with {@link VfioGroup#openNoIommu}:
     * the kernel's unsafe no-IOMMU mode. There is no DMA mapping and no isolation: the devices can DMA anywhere.
     *
     * @throws VfioException when the kernel does not offer it (no CONFIG_VFIO_NOIOMMU, or the mode is off)
     */
    public synchronized void setNoIommu() {
        if (iommu != null || noIommu) {
            throw new VfioException(PATH + ": the IOMMU type is already set");
        }
        if (groups.isEmpty()) {
            throw new VfioException(PATH + ": attach a group before setting the IOMMU type");
        }
        if (!checkExtension(VFIO_NOIOMMU_IOMMU)) {
            throw new VfioException(PATH + ": the kernel does not offer VFIO_NOIOMMU_IOMMU (needs CONFIG_VFIO_NOIOMMU "
                    + "and vfio.enable_unsafe_noiommu_mode=1)");
        }
        fd.ioctl(VfioIoctls.VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU);
        noIommu = true;
    }

    /** True after {@link #setNoIommu()}. */
    public synchronized boolean noIommu() {
        return noIommu;
    }

    /** The IOMMU, once {@link #setIommu()} succeeded; null before. */
    public synchronized Type1Iommu iommu() {
        return iommu;
    }

    /** Called by a group before it leaves: the last group takes the IOMMU with it, so unmap DMA first. */
    synchronized void groupDetaching(VfioGroup group) {
        if (iommu != null && groups.size() == 1 && groups.contains(group)) {
            Type1Iommu i = iommu;
            iommu = null;
            i.close();
        }
    }

    synchronized void groupDetached(VfioGroup group) {
        groups.remove(group);
        if (groups.isEmpty()) {
            noIommu = false; // the kernel drops the container's IOMMU driver with its last group
        }
        if (iommu != null) {
            iommu.invalidate();
        }
    }

    /** True once closed. */
    public synchronized boolean isClosed() {
        return closed;
    }

    /** Unmaps all DMA, detaches the groups still attached, closes the fd; idempotent. */
    @Override
    public void close() {
        Type1Iommu i;
        List<VfioGroup> attached;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            i = iommu;
            iommu = null;
            attached = new ArrayList<>(groups);
        }
        Closer closer = new Closer();
        closer.close(i);
        for (VfioGroup g : attached) {
            closer.run(() -> {
                try {
                    g.detach();
                } catch (RuntimeException | Error e) {
                    synchronized (this) {
                        groups.remove(g);
                    }
                    throw e;
                }
            });
        }
        closer.close(fd);
        closer.rethrow();
    }

    @Override
    public String toString() {
        return PATH + " container (" + groups.size() + " groups)" + (closed ? " closed" : "");
    }
}
