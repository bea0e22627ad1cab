package org.vfio4j.vfio.iommu;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.sun.jna.Memory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.caps.CapabilityChain;
import org.vfio4j.vfio.caps.InfoQuery;
import org.vfio4j.vfio.caps.RawCapability;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts.DmaMap;
import org.vfio4j.vfio.uapi.VfioLayouts.DmaUnmap;
import org.vfio4j.vfio.uapi.VfioLayouts.Type1Info;

/**
 * The type1 IOMMU of a legacy VFIO container: info with its capabilities, and MAP_DMA/UNMAP_DMA validated against the
 * IOVA ranges. It keeps every live mapping, and {@link #close()} unmaps them all.
 *
 * <p>It doesn't own the container fd (the container does); the container closes this before its last group leaves,
 * because the kernel drops the IOMMU together with the last group.
 */
public final class Type1Iommu implements DmaMapper {
    private final FileDescriptor container;
    private final int type;
    private final TreeMap<Long, DmaMapping> live = new TreeMap<>(Long::compareUnsigned);
    private IommuInfo cachedInfo;
    private boolean closed;

    /**
     * @param container the container fd, on which VFIO_SET_IOMMU already succeeded
     * @param type {@link org.vfio4j.vfio.uapi.VfioConstants#VFIO_TYPE1v2_IOMMU} or {@code VFIO_TYPE1_IOMMU}
     */
    public Type1Iommu(FileDescriptor container, int type) {
        this.container = container;
        this.type = type;
    }

    /** The IOMMU type that was set: {@code VFIO_TYPE1v2_IOMMU} or {@code VFIO_TYPE1_IOMMU}. */
    public int type() {
        return type;
    }

    /** A fresh {@code VFIO_IOMMU_GET_INFO}, re-queried with the larger argsz the kernel asks for. */
    public synchronized IommuInfo info() {
        InfoQuery.Result r = InfoQuery.query(container, VfioIoctls.VFIO_IOMMU_GET_INFO, Type1Info.SIZE, m -> { },
                "type1 IOMMU info");
        ByteBuffer b = ByteBuffer.wrap(r.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int flags = b.getInt(Type1Info.FLAGS);
        long pgsizes = b.getLong(Type1Info.IOVA_PGSIZES);
        CapabilityChain chain = CapabilityChain.empty();
        List<String> problems = new ArrayList<>();
        if ((flags & VFIO_IOMMU_INFO_CAPS) != 0) {
            if (!r.complete()) {
                problems.add("kernel kept asking for a larger buffer (argsz " + r.argsz() + "); caps not read");
            }
            chain = CapabilityChain.walk(r.bytes(), r.bytes().length, Type1Info.SIZE,
                    Integer.toUnsignedLong(b.getInt(Type1Info.CAP_OFFSET)));
        }
        problems.addAll(chain.problems());
        List<IommuCapability> caps = new ArrayList<>();
        for (RawCapability c : chain.capabilities()) {
            caps.add(IommuCapability.decode(c));
        }
        IommuInfo info = new IommuInfo(flags, pgsizes, caps, problems);
        cachedInfo = info;
        return info;
    }

    /** Forgets the cached info; the container calls this when groups come or go (ranges can change). */
    public synchronized void invalidate() {
        cachedInfo = null;
    }

    /** The info validation uses: cached, since page sizes and IOVA ranges change only when groups come or go. */
    private IommuInfo currentInfo() {
        return cachedInfo != null ? cachedInfo : info();
    }

    @Override
    public synchronized List<IovaRange> iovaRanges() {
        return currentInfo().iovaRanges().orElse(List.of());
    }

    /**
     * The reserved holes: the gaps between the valid IOVA ranges (and before the first and after the last) over the
     * whole 64-bit space. Empty when the kernel reports no ranges.
     */
    public synchronized List<IovaRange> reservedHoles() {
        return holes(iovaRanges());
    }

    static List<IovaRange> holes(List<IovaRange> ranges) {
        if (ranges.isEmpty()) {
            return List.of();
        }
        List<IovaRange> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Long.compareUnsigned(a.start(), b.start()));
        List<IovaRange> holes = new ArrayList<>();
        long next = 0; // first address not yet covered
        boolean wrapped = false;
        for (IovaRange r : sorted) {
            if (wrapped) {
                break;
            }
            if (Long.compareUnsigned(r.start(), next) > 0) {
                holes.add(new IovaRange(next, r.start() - 1));
            }
            if (Long.compareUnsigned(r.end(), next) >= 0) {
                if (r.end() == -1L) {
                    wrapped = true;
                } else {
                    next = r.end() + 1;
                }
            }
        }
        if (!wrapped) {
            holes.add(new IovaRange(next, -1L));
        }
        return holes;
    }

    private String describeHole(IovaRange hole) {
        String what = hole.equals(IovaRange.X86_MSI_WINDOW) ? " (the x86 MSI window)"
                : hole.contains(IovaRange.X86_MSI_WINDOW)
                        ? " (contains the x86 MSI window " + IovaRange.X86_MSI_WINDOW + ")" : "";
        return "reserved IOVA hole " + hole + what;
    }

    /** Checks a mapping request without mapping; throws what {@link #map} would throw before the ioctl. */
    public synchronized void validate(long iova, long size) {
        if (size <= 0) {
            throw new DmaRangeException(String.format("%s: DMA map of iova 0x%x with size %d: size must be positive",
                    container.name(), iova, size));
        }
        if (Long.compareUnsigned(iova + size - 1, iova) < 0) {
            throw new DmaRangeException(String.format("%s: DMA map iova 0x%x size 0x%x wraps past 2^64",
                    container.name(), iova, size));
        }
        IommuInfo info = currentInfo();
        long page = info.minPageSize();
        if ((iova & (page - 1)) != 0 || (size & (page - 1)) != 0) {
            throw new DmaRangeException(String.format(
                    "%s: DMA map iova 0x%x size 0x%x is not aligned to the IOMMU page size 0x%x",
                    container.name(), iova, size, page));
        }
        IovaRange want = IovaRange.ofSize(iova, size);
        for (IovaRange hole : holes(info.iovaRanges().orElse(List.of()))) {
            if (hole.overlaps(want)) {
                throw new DmaRangeException(String.format("%s: DMA map iova %s overlaps the %s; valid ranges: %s",
                        container.name(), want, describeHole(hole), info.iovaRanges().orElse(List.of())));
            }
        }
        for (DmaMapping m : live.values()) {
            if (m.range().overlaps(want)) {
                throw new DmaRangeException(String.format("%s: DMA map iova %s overlaps the live mapping %s",
                        container.name(), want, m));
            }
        }
    }

    @Override
    public synchronized DmaMapping map(long hostAddress, long iova, long size, boolean readable, boolean writable) {
        if (closed) {
            throw new IllegalStateException(container.name() + ": type1 IOMMU closed");
        }
        validate(iova, size);
        Memory m = new Memory(DmaMap.SIZE);
        m.clear();
        m.setInt(DmaMap.ARGSZ, DmaMap.SIZE);
        m.setInt(DmaMap.FLAGS, (readable ? VFIO_DMA_MAP_FLAG_READ : 0) | (writable ? VFIO_DMA_MAP_FLAG_WRITE : 0));
        m.setLong(DmaMap.VADDR, hostAddress);
        m.setLong(DmaMap.IOVA, iova);
        m.setLong(DmaMap.MAP_SIZE, size);
        int r = container.ioctlRaw(VfioIoctls.VFIO_IOMMU_MAP_DMA, m);
        if (r < 0) {
            throw new SyscallException("ioctl", container.name(), VfioIoctls.VFIO_IOMMU_MAP_DMA.name(), -r,
                    String.format("iova 0x%x size 0x%x vaddr 0x%x", iova, size, hostAddress));
        }
        DmaMapping mapping = new DmaMapping(iova, size, hostAddress, readable, writable);
        live.put(iova, mapping);
        return mapping;
    }

    @Override
    public synchronized long unmap(long iova, long size) {
        Memory m = new Memory(DmaUnmap.SIZE);
        m.clear();
        m.setInt(DmaUnmap.ARGSZ, DmaUnmap.SIZE);
        m.setLong(DmaUnmap.IOVA, iova);
        m.setLong(DmaUnmap.UNMAP_SIZE, size);
        int r = container.ioctlRaw(VfioIoctls.VFIO_IOMMU_UNMAP_DMA, m);
        if (r < 0) {
            throw new SyscallException("ioctl", container.name(), VfioIoctls.VFIO_IOMMU_UNMAP_DMA.name(), -r,
                    String.format("iova 0x%x size 0x%x", iova, size));
        }
        long unmapped = m.getLong(DmaUnmap.UNMAP_SIZE);
        // The kernel unmaps whole mappings that lie inside the range; forget exactly those.
        IovaRange range = IovaRange.ofSize(iova, size);
        live.values().removeIf(d -> range.contains(d.range()));
        return unmapped;
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
     * Unmaps every live mapping. All are attempted; the first failure is thrown afterwards with the others
     * suppressed. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closer closer = new Closer();
        for (Map.Entry<Long, DmaMapping> e : new ArrayList<>(live.entrySet())) {
            closer.run(() -> {
                try {
                    unmap(e.getValue());
                } catch (RuntimeException | Error ex) {
                    live.remove(e.getKey());
                    throw ex;
                }
            });
        }
        closer.rethrow();
    }

    @Override
    public String toString() {
        return container.name() + (type == VFIO_TYPE1v2_IOMMU ? " type1v2" : " type1") + " (" + live.size()
                + " DMA mappings)";
    }
}
