package org.vfio4j.core.memory;

import java.util.List;

/**
 * The guest's RAM as the VMM laid it out. Passthrough devices list it to set up DMA mappings and listen for changes
 * (memory hotplug) to keep those mappings in step.
 */
public interface GuestMemory {

    /** The RAM regions, in guest-address order. */
    List<RamRegion> regions();

    /**
     * Registers a listener for RAM added or removed later. The listener is not called for the regions that exist
     * now; the caller reads {@link #regions()} itself.
     *
     * @return a handle whose {@code close()} removes the listener
     */
    AutoCloseable addListener(Listener listener);

    /** The host address backing {@code [gpa, gpa + length)}, or throws when the range isn't wholly inside RAM. */
    default long hostAddress(long gpa, long length) {
        for (RamRegion r : regions()) {
            if (r.contains(gpa, length)) {
                return r.hostAddress() + (gpa - r.guestAddress());
            }
        }
        throw new IllegalArgumentException(String.format("guest range 0x%x+0x%x is not RAM", gpa, length));
    }

    /** Told about RAM that appears or disappears after registration. */
    interface Listener {
        /** Called after {@code region} became guest RAM. */
        void ramAdded(RamRegion region);

        /** Called before {@code region} stops being guest RAM; the host memory is still mapped during the call. */
        void ramRemoved(RamRegion region);
    }
}
