package org.vfio4j.vfio;

import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.iommu.Type1Iommu;

/**
 * A device together with the group and container opened for it by {@link Vfio#openPciDevice(String)}. Closing it
 * closes the device, then the group (detaching it), then the container (unmapping DMA first); idempotent.
 *
 * @param container the container, with its IOMMU set
 * @param group the device's group, attached to {@code container}
 * @param device the device
 */
public record VfioStack(VfioContainer container, VfioGroup group, VfioDevice device) implements AutoCloseable {

    /** The container's type1 IOMMU, for DMA mapping. */
    public Type1Iommu iommu() {
        return container.iommu();
    }

    @Override
    public void close() {
        Closer closer = new Closer();
        closer.close(device);
        closer.close(container.iommu());
        closer.close(group);
        closer.close(container);
        closer.rethrow();
    }
}
