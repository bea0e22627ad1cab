package org.vfio4j.vfio;

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
        Throwable first = null;
        for (AutoCloseable c : new AutoCloseable[] {device, container.iommu(), group, container}) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (Exception | Error e) {
                Throwable r = e instanceof RuntimeException || e instanceof Error ? e : new RuntimeException(e);
                if (first == null) {
                    first = r;
                } else {
                    first.addSuppressed(r);
                }
            }
        }
        if (first instanceof Error error) {
            throw error;
        }
        if (first != null) {
            throw (RuntimeException) first;
        }
    }
}
