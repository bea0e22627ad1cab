package org.vfio4j.vfio.iommufd;

import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.iommu.DmaMapper;

/**
 * A device opened through its cdev by {@link IommufdVfio#openPciDevice(String)}, with the iommufd it is bound to and
 * the IOAS it is attached to (no IOAS in the no-IOMMU mode). Closing it closes the device fd (the kernel detaches
 * and unbinds it), then unmaps all DMA and destroys the IOAS, then closes the iommufd; idempotent.
 *
 * @param iommufd the iommufd the device is bound to
 * @param ioas the IO address space the device is attached to; null in no-IOMMU mode
 * @param device the device, opened as a cdev
 * @param devId the device id within {@code iommufd} ({@code VFIO_DEVICE_BIND_IOMMUFD}'s answer)
 * @param cdevName the cdev's name, e.g. {@code vfio0}
 */
public record CdevStack(Iommufd iommufd, IommufdIoas ioas, VfioDevice device, int devId, String cdevName)
        implements AutoCloseable {

    /** The DMA seam of this device: its IOAS. */
    public DmaMapper dma() {
        return ioas;
    }

    /** True when the device was bound without an IOMMU (the unsafe mode, asked for explicitly). */
    public boolean noIommu() {
        return ioas == null;
    }

    @Override
    public void close() {
        Closer closer = new Closer();
        closer.close(device);
        closer.close(ioas);
        closer.close(iommufd);
        closer.rethrow();
    }
}
