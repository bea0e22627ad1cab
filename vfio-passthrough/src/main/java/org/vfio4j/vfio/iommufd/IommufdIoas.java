package org.vfio4j.vfio.iommufd;

import static org.vfio4j.vfio.iommufd.IommufdConstants.*;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.iommu.DmaMapper;
import org.vfio4j.vfio.iommu.DmaMapping;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.iommufd.IommufdLayouts.IoasMap;
import org.vfio4j.vfio.iommufd.IommufdLayouts.IoasUnmap;
import org.vfio4j.vfio.iommufd.IommufdLayouts.IovaRanges;

/**
 * One iommufd IO address space: the {@link DmaMapper} of the cdev backend. Its allowed IOVA ranges
 * ({@code IOMMU_IOAS_IOVA_RANGES}) are applied the way the type1 IOVA-range capability is: a mapping that touches a
 * gap between them (the x86 MSI window once a device is attached) is refused before any ioctl. It keeps every live
 * mapping; {@link #close()} unmaps them all and destroys the IOAS.
 *
 * <p>The allowed ranges shrink when a device attaches (its reserved regions are cut out), so the attach path calls
 * {@link #invalidate()}.
 */
public final class IommufdIoas implements DmaMapper {
    /** Linux x86-64 EMSGSIZE: the range array was too small (the needed count is written back). */
    private static final int EMSGSIZE = 90;

    private final Iommufd iommufd;
    private final int id;
    private final TreeMap<Long, DmaMapping> live = new TreeMap<>(Long::compareUnsigned);
    private IoasRanges cached;
    private boolean closed;

    IommufdIoas(Iommufd iommufd, int id) {
        this.iommufd = iommufd;
        this.id = id;
    }

    /** The IOAS object id within its iommufd (the {@code pt_id} a device attaches to). */
    public int id() {
        return id;
    }

    /** A fresh {@code IOMMU_IOAS_IOVA_RANGES}, asked again with the count the kernel reports when it needs more. */
    public synchronized IoasRanges queryRanges() {
        int capacity = 4;
        for (int attempt = 0; attempt < 8; attempt++) {
            Memory array = new Memory((long) capacity * IovaRanges.RANGE_SIZE);
            array.clear();
            Memory m = new Memory(IovaRanges.SIZE);
            m.clear();
            m.setInt(IovaRanges.STRUCT_SIZE, IovaRanges.SIZE);
            m.setInt(IovaRanges.IOAS_ID, id);
            m.setInt(IovaRanges.NUM_IOVAS, capacity);
            m.setLong(IovaRanges.ALLOWED_IOVAS, com.sun.jna.Pointer.nativeValue(array));
            int r = iommufd.descriptor().ioctlRaw(IommufdIoctls.IOMMU_IOAS_IOVA_RANGES, m);
            int count = m.getInt(IovaRanges.NUM_IOVAS);
            if (r == -EMSGSIZE && count > capacity) {
                capacity = count;
                continue;
            }
            if (r < 0) {
                throw new SyscallException("ioctl", iommufd.descriptor().name(),
                        IommufdIoctls.IOMMU_IOAS_IOVA_RANGES.name(), -r, "IOAS " + id);
            }
            List<IovaRange> ranges = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long base = (long) i * IovaRanges.RANGE_SIZE;
                ranges.add(new IovaRange(array.getLong(base + IovaRanges.RANGE_START),
                        array.getLong(base + IovaRanges.RANGE_LAST)));
            }
            IoasRanges result = new IoasRanges(ranges, m.getLong(IovaRanges.OUT_IOVA_ALIGNMENT));
            cached = result;
            return result;
        }
        throw new IllegalStateException("IOAS " + id + ": the kernel kept asking for more IOVA range entries");
    }

    private IoasRanges current() {
        return cached != null ? cached : queryRanges();
    }

    /** Forgets the cached ranges (a device attached or detached). */
    public synchronized void invalidate() {
        cached = null;
    }

    @Override
    public synchronized List<IovaRange> iovaRanges() {
        return current().ranges();
    }

    /** The gaps between the allowed ranges over the whole 64-bit space (reserved regions such as the MSI window). */
    public synchronized List<IovaRange> reservedHoles() {
        return IovaHoles.between(iovaRanges());
    }

    /** Checks a mapping request without mapping; throws what {@link #map} would throw before the ioctl. */
    public synchronized void validate(long iova, long size) {
        String me = "IOAS " + id;
        if (size <= 0) {
            throw new DmaRangeException(String.format("%s: DMA map of iova 0x%x with size %d: size must be positive",
                    me, iova, size));
        }
        if (Long.compareUnsigned(iova + size - 1, iova) < 0) {
            throw new DmaRangeException(String.format("%s: DMA map iova 0x%x size 0x%x wraps past 2^64", me, iova,
                    size));
        }
        IoasRanges r = current();
        long align = Math.max(r.alignment(), 1);
        if (Long.remainderUnsigned(iova, align) != 0 || Long.remainderUnsigned(size, align) != 0) {
            throw new DmaRangeException(String.format(
                    "%s: DMA map iova 0x%x size 0x%x is not aligned to the IOAS alignment 0x%x", me, iova, size,
                    align));
        }
        IovaRange want = IovaRange.ofSize(iova, size);
        for (IovaRange hole : IovaHoles.between(r.ranges())) {
            if (hole.overlaps(want)) {
                String what = hole.contains(IovaRange.X86_MSI_WINDOW)
                        ? " (contains the x86 MSI window " + IovaRange.X86_MSI_WINDOW + ")" : "";
                throw new DmaRangeException(String.format("%s: DMA map iova %s overlaps the reserved IOVA hole %s%s;"
                        + " allowed ranges: %s", me, want, hole, what, r.ranges()));
            }
        }
        for (DmaMapping m : live.values()) {
            if (m.range().overlaps(want)) {
                throw new DmaRangeException(String.format("%s: DMA map iova %s overlaps the live mapping %s", me,
                        want, m));
            }
        }
    }

    @Override
    public synchronized DmaMapping map(long hostAddress, long iova, long size, boolean readable, boolean writable) {
        if (closed) {
            throw new IllegalStateException("IOAS " + id + " closed");
        }
        validate(iova, size);
        Memory m = new Memory(IoasMap.SIZE);
        m.clear();
        m.setInt(IoasMap.STRUCT_SIZE, IoasMap.SIZE);
        m.setInt(IoasMap.FLAGS, IOMMU_IOAS_MAP_FIXED_IOVA | (readable ? IOMMU_IOAS_MAP_READABLE : 0)
                | (writable ? IOMMU_IOAS_MAP_WRITEABLE : 0));
        m.setInt(IoasMap.IOAS_ID, id);
        m.setLong(IoasMap.USER_VA, hostAddress);
        m.setLong(IoasMap.LENGTH, size);
        m.setLong(IoasMap.IOVA, iova);
        int r = iommufd.descriptor().ioctlRaw(IommufdIoctls.IOMMU_IOAS_MAP, m);
        if (r < 0) {
            throw new SyscallException("ioctl", iommufd.descriptor().name(), IommufdIoctls.IOMMU_IOAS_MAP.name(), -r,
                    String.format("IOAS %d iova 0x%x size 0x%x vaddr 0x%x", id, iova, size, hostAddress));
        }
        DmaMapping mapping = new DmaMapping(iova, size, hostAddress, readable, writable);
        live.put(iova, mapping);
        return mapping;
    }

    @Override
    public synchronized long unmap(long iova, long size) {
        Memory m = new Memory(IoasUnmap.SIZE);
        m.clear();
        m.setInt(IoasUnmap.STRUCT_SIZE, IoasUnmap.SIZE);
        m.setInt(IoasUnmap.IOAS_ID, id);
        m.setLong(IoasUnmap.IOVA, iova);
        m.setLong(IoasUnmap.LENGTH, size);
        int r = iommufd.descriptor().ioctlRaw(IommufdIoctls.IOMMU_IOAS_UNMAP, m);
        if (r < 0) {
            throw new SyscallException("ioctl", iommufd.descriptor().name(), IommufdIoctls.IOMMU_IOAS_UNMAP.name(),
                    -r, String.format("IOAS %d iova 0x%x size 0x%x", id, iova, size));
        }
        // The kernel unmaps whole mappings inside the range (it refuses to split one); forget exactly those.
        IovaRange range = IovaRange.ofSize(iova, size);
        live.values().removeIf(d -> range.contains(d.range()));
        return m.getLong(IoasUnmap.LENGTH);
    }

    /**
     * {@code IOMMU_IOAS_UNMAP} of the whole IOVA space: the number of bytes the kernel still had mapped, whether or
     * not this object knows about them (a leak check). Forgets every live mapping.
     */
    public synchronized long unmapEverything() {
        Memory m = new Memory(IoasUnmap.SIZE);
        m.clear();
        m.setInt(IoasUnmap.STRUCT_SIZE, IoasUnmap.SIZE);
        m.setInt(IoasUnmap.IOAS_ID, id);
        m.setLong(IoasUnmap.IOVA, 0);
        m.setLong(IoasUnmap.LENGTH, -1L); // iova 0 with length U64_MAX means "everything"
        int r = iommufd.descriptor().ioctlRaw(IommufdIoctls.IOMMU_IOAS_UNMAP, m);
        if (r < 0 && r != -Errno.ENOENT) {
            throw new SyscallException("ioctl", iommufd.descriptor().name(), IommufdIoctls.IOMMU_IOAS_UNMAP.name(),
                    -r, "IOAS " + id + " everything");
        }
        live.clear();
        return r < 0 ? 0 : m.getLong(IoasUnmap.LENGTH);
    }

    @Override
    public synchronized List<DmaMapping> mappings() {
        return List.copyOf(live.values());
    }

    /** True once {@link #close()} ran. */
    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Unmaps every live mapping, then destroys the IOAS (which the kernel refuses while a device is still attached;
     * close devices first). Every step is attempted; the first failure is thrown with the others suppressed.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closer closer = new Closer();
        for (DmaMapping d : new ArrayList<>(live.values())) {
            closer.run(() -> {
                try {
                    unmap(d);
                } catch (RuntimeException e) {
                    live.remove(d.iova());
                    throw e;
                }
            });
        }
        if (!iommufd.isClosed()) {
            closer.run(() -> iommufd.destroy(id));
        }
        closer.rethrow();
    }

    @Override
    public String toString() {
        return "iommufd IOAS " + id + " (" + live.size() + " DMA mappings)";
    }
}
