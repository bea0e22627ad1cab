package org.vfio4j.vfio.region;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.List;
import java.util.Optional;

/**
 * What {@code VFIO_DEVICE_GET_REGION_INFO} says about one region.
 *
 * @param index the region index
 * @param flags {@code VFIO_REGION_INFO_FLAG_*}
 * @param size the region size in bytes (0 for a region the device doesn't implement)
 * @param offset where the region starts in the device fd, for pread/pwrite/mmap
 * @param capabilities the decoded capability chain
 * @param chainProblems why the chain was cut short, if it was (see {@link org.vfio4j.vfio.caps.CapabilityChain})
 */
public record RegionInfo(int index, int flags, long size, long offset, List<RegionCapability> capabilities,
        List<String> chainProblems) {

    /** Copies the lists. */
    public RegionInfo {
        capabilities = List.copyOf(capabilities);
        chainProblems = List.copyOf(chainProblems);
    }

    /** The vfio-pci name of the index: BAR0..BAR5, ROM, CONFIG, VGA, or {@code "region N"}. */
    public String name() {
        return PciRegions.name(index);
    }

    /** The region supports read (pread). */
    public boolean readable() {
        return (flags & VFIO_REGION_INFO_FLAG_READ) != 0;
    }

    /** The region supports write (pwrite). */
    public boolean writable() {
        return (flags & VFIO_REGION_INFO_FLAG_WRITE) != 0;
    }

    /** The region (or its sparse areas) supports mmap. */
    public boolean mmappable() {
        return (flags & VFIO_REGION_INFO_FLAG_MMAP) != 0;
    }

    /** The sparse mmap areas, when the region has that capability. */
    public Optional<List<SparseArea>> sparseAreas() {
        for (RegionCapability c : capabilities) {
            if (c instanceof RegionCapability.SparseMmap s) {
                return Optional.of(s.areas());
            }
        }
        return Optional.empty();
    }

    /** The region type, when the region has that capability. */
    public Optional<RegionType> type() {
        for (RegionCapability c : capabilities) {
            if (c instanceof RegionCapability.Type t) {
                return Optional.of(t.type());
            }
        }
        return Optional.empty();
    }

    /** True when the region has the MSI-X mappable capability. */
    public boolean msixMappable() {
        return capabilities.stream().anyMatch(c -> c instanceof RegionCapability.MsixMappable);
    }

    /** The areas an mmap may cover: the sparse areas when listed, else the whole region when mmappable, else none. */
    public List<SparseArea> mmapAreas() {
        if (!mmappable() || size == 0) {
            return List.of();
        }
        return sparseAreas().orElse(List.of(new SparseArea(0, size)));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(String.format("%s: size 0x%x offset 0x%x flags", name(), size, offset));
        sb.append(readable() ? " R" : "").append(writable() ? " W" : "").append(mmappable() ? " MMAP" : "");
        if (!capabilities.isEmpty()) {
            sb.append(" caps ").append(capabilities);
        }
        return sb.toString();
    }
}
