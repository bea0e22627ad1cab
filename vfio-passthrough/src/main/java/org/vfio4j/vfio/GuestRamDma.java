package org.vfio4j.vfio;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.vfio.errors.DmaRangeException;
import org.vfio4j.vfio.iommu.DmaMapper;

/**
 * Keeps all of guest RAM mapped in a VFIO context's IOMMU (type1 container or iommufd IOAS) at IOVA = GPA, so the device can DMA to any address the
 * guest hands it. The whole layout is checked against the IOVA ranges before anything is mapped: a RAM region
 * that overlaps a reserved hole (on x86, the MSI window at 0xfee00000) is refused with an error naming both. RAM
 * added later is mapped, RAM removed is unmapped first (the listener is told before the host memory goes).
 */
final class GuestRamDma implements GuestMemory.Listener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuestRamDma.class);

    private final String name;
    private final DmaMapper iommu;
    private final Map<Long, RamRegion> mapped = new LinkedHashMap<>();
    private AutoCloseable listener;
    private boolean closed;

    GuestRamDma(String name, DmaMapper iommu) {
        this.name = name;
        this.iommu = iommu;
    }

    /** Checks and maps every region of {@code memory}, then follows its changes. */
    synchronized void mapAll(GuestMemory memory) {
        List<RamRegion> regions = memory.regions();
        for (RamRegion r : regions) {
            check(r);
        }
        try {
            for (RamRegion r : regions) {
                map(r);
            }
            listener = memory.addListener(this);
        } catch (RuntimeException | Error e) {
            // An Error too: pinned guest RAM must not stay mapped after a failed attach.
            RuntimeException into = new RuntimeException("unmapping after a failed map");
            unmapAll(into);
            for (Throwable t : into.getSuppressed()) {
                e.addSuppressed(t);
            }
            throw e;
        }
    }

    private void check(RamRegion r) {
        try {
            iommu.validate(r.guestAddress(), r.size());
        } catch (DmaRangeException e) {
            throw new DmaRangeException(String.format(
                    "%s: guest RAM '%s' at 0x%x+0x%x cannot be DMA-mapped at IOVA = GPA: %s; move guest RAM out of "
                            + "the IOMMU's reserved ranges", name, r.name(), r.guestAddress(), r.size(),
                    e.getMessage()));
        }
    }

    private void map(RamRegion r) {
        iommu.map(r.hostAddress(), r.guestAddress(), r.size(), true, true);
        mapped.put(r.guestAddress(), r);
    }

    /** Bytes of guest RAM mapped now. */
    synchronized long mappedBytes() {
        return mapped.values().stream().mapToLong(RamRegion::size).sum();
    }

    @Override
    public synchronized void ramAdded(RamRegion region) {
        if (closed) {
            return;
        }
        try {
            check(region);
            map(region);
        } catch (RuntimeException e) {
            LOG.error("{}: new guest RAM is not reachable by device DMA", name, e);
        }
    }

    @Override
    public synchronized void ramRemoved(RamRegion region) {
        if (closed || mapped.remove(region.guestAddress()) == null) {
            return;
        }
        try {
            iommu.unmap(region.guestAddress(), region.size());
        } catch (RuntimeException e) {
            LOG.error("{}: unmapping removed guest RAM '{}' from the IOMMU failed", name, region.name(), e);
        }
    }

    private void unmapAll(RuntimeException into) {
        for (RamRegion r : new ArrayList<>(mapped.values())) {
            try {
                iommu.unmap(r.guestAddress(), r.size());
            } catch (RuntimeException | Error e) {
                if (into != null) {
                    into.addSuppressed(e);
                } else {
                    LOG.warn("{}: DMA unmap of '{}' failed", name, r.name(), e);
                }
            }
        }
        mapped.clear();
    }

    /** Stops following guest memory and unmaps everything it mapped. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (listener != null) {
            try {
                listener.close();
            } catch (Exception e) {
                LOG.warn("{}: removing the guest memory listener failed", name, e);
            }
        }
        if (!iommu.isClosed()) {
            unmapAll(null);
        }
        mapped.clear();
    }
}
