package org.vfio4j.vfio.iommu;

import java.util.List;

/**
 * The DMA side of an IOMMU backend, as device code sees it: which IOVAs are usable, and mapping host memory at them.
 * The legacy type1 container implements it ({@link Type1Iommu}), and so does an iommufd IOAS
 * ({@link org.vfio4j.vfio.iommufd.IommufdIoas}); device code does not know which.
 *
 * <p>The mapper owns its mappings: {@link #close()} unmaps every live one, so none leaks.
 */
public interface DmaMapper extends AutoCloseable {

    /** The IOVA ranges mappings may use; empty when the backend doesn't report any (then nothing is pre-checked). */
    List<IovaRange> iovaRanges();

    /**
     * Checks a mapping request without mapping: throws what {@link #map} would throw before its ioctl.
     *
     * @throws org.vfio4j.vfio.errors.DmaRangeException when the range overlaps a reserved hole, is misaligned or
     *     overlaps a live mapping
     */
    void validate(long iova, long size);

    /** Forgets cached kernel answers (usable ranges), e.g. after a device joined and narrowed them. */
    void invalidate();

    /**
     * Maps {@code size} bytes of process memory at {@code hostAddress} to {@code iova}.
     *
     * @throws org.vfio4j.vfio.errors.DmaRangeException before any ioctl, when the range overlaps a reserved hole, is
     *     misaligned or overlaps a live mapping
     * @throws org.vfio4j.core.sys.SyscallException when the kernel refuses
     */
    DmaMapping map(long hostAddress, long iova, long size, boolean readable, boolean writable);

    /**
     * Unmaps the mappings inside {@code [iova, iova + size)}; returns the number of bytes the kernel unmapped.
     *
     * @throws org.vfio4j.core.sys.SyscallException when the kernel refuses (type1 v2 won't split a mapping)
     */
    long unmap(long iova, long size);

    /** Unmaps one mapping this mapper created. */
    default void unmap(DmaMapping mapping) {
        unmap(mapping.iova(), mapping.size());
    }

    /** The live mappings, ordered by IOVA. */
    List<DmaMapping> mappings();

    /** True once closed (the container lost its IOMMU, or the IOAS was destroyed). */
    boolean isClosed();

    /** Unmaps every live mapping; idempotent. */
    @Override
    void close();
}
