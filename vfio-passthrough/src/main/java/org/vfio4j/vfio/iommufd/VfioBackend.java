package org.vfio4j.vfio.iommufd;

import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * Which VFIO interface opens a device: the legacy group/container one with a type1 IOMMU, or the per-device cdev
 * bound to an iommufd IOAS. {@link #AUTO} prefers the cdev when the kernel offers it for the device.
 */
public enum VfioBackend {
    /** {@code /dev/vfio/vfio} + {@code /dev/vfio/N}, type1 IOMMU ({@link org.vfio4j.vfio.Vfio#openPciDevice}). */
    LEGACY_CONTAINER,
    /** {@code /dev/vfio/devices/vfioN} + {@code /dev/iommu} ({@link IommufdVfio#openPciDevice}). */
    IOMMUFD_CDEV,
    /**
     * {@link #IOMMUFD_CDEV} when the kernel has iommufd and VFIO device cdevs, else the container; the system
     * property {@value #PROPERTY} ({@code legacy}, {@code iommufd} or {@code auto}) lets an operator pin the choice
     * of every context created with {@code AUTO} without a code change.
     */
    AUTO;

    /** The system property that pins what {@link #AUTO} means for a {@link org.vfio4j.vfio.VfioContext}. */
    public static final String PROPERTY = "vfio4j.backend";

    /**
     * The concrete backend for a device: this one, or for {@link #AUTO} the cdev when {@code iommufdPresent} and
     * the device has a (non-no-IOMMU) cdev in {@code sysfs}.
     */
    public VfioBackend resolve(Sysfs sysfs, String bdfOrPath, boolean iommufdPresent) {
        if (this != AUTO) {
            return this;
        }
        boolean cdev = VfioCdev.nameOf(sysfs, bdfOrPath).filter(n -> !n.startsWith(VfioCdev.NOIOMMU_PREFIX))
                .isPresent();
        return iommufdPresent && cdev ? IOMMUFD_CDEV : LEGACY_CONTAINER;
    }

    /** {@link #resolve(Sysfs, String, boolean)} on this host ({@link IommufdVfio#hostSupported()}). */
    public VfioBackend resolveOnHost(Sysfs sysfs, String bdfOrPath) {
        return resolve(sysfs, bdfOrPath, IommufdVfio.hostSupported());
    }
}
