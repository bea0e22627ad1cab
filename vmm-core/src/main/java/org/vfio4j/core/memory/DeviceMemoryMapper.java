package org.vfio4j.core.memory;

/**
 * Maps host memory (typically an mmap of a VFIO region) into guest-physical space as device memory, so guest
 * accesses reach the device without leaving guest mode. With KVM each mapping is a memslot; slots are a limited
 * resource, so the mapper reports its budget.
 */
public interface DeviceMemoryMapper {

    /**
     * Maps {@code size} bytes at host address {@code hostAddress} at guest address {@code guestAddress}.
     * Both addresses and the size must be host-page aligned.
     *
     * @param name what is mapped, for error messages (e.g. "0000:00:03.0 BAR0 area 0")
     */
    DeviceMemorySlot map(long guestAddress, long size, long hostAddress, boolean readOnly, String name);

    /** How many more mappings can be made. */
    int slotsAvailable();

    /** How many mappings this mapper can hold in all. */
    int slotsTotal();
}
