package org.vfio4j.core.memory;

/**
 * One device-memory mapping made by a {@link DeviceMemoryMapper}. Closing it removes the mapping from the guest;
 * closing twice is harmless. The host memory stays owned by whoever mapped it.
 */
public interface DeviceMemorySlot extends AutoCloseable {

    long guestAddress();

    long size();

    long hostAddress();

    String name();

    /** Moves the mapping to {@code newGuestAddress} (a BAR move). */
    void move(long newGuestAddress);

    @Override
    void close();
}
