package org.vfio4j.core;

import java.util.Optional;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.memory.DeviceMemoryMapper;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.memory.MemoryReservations;

/**
 * What a device plugged into a VMM may use: the SPI a host VMM implements for vfio4j. vmm-core ships a KVM
 * implementation; a VMM with its own memory and interrupt code implements this itself.
 */
public interface Vmm {

    /** Guest RAM, for DMA mapping. */
    GuestMemory guestMemory();

    /** Maps host memory into guest-physical space as device memory. */
    DeviceMemoryMapper deviceMemory();

    /** Trapped guest-physical MMIO. */
    TrapBus mmioBus();

    /** Trapped port I/O. */
    TrapBus pioBus();

    /** Interrupt delivery. */
    InterruptController interrupts();

    /**
     * How to tell the hypervisor about the VFIO groups this VM uses, when it needs to know (KVM does); empty when
     * it doesn't.
     */
    default Optional<VfioGroupRegistrar> vfioGroupRegistrar() {
        return Optional.empty();
    }

    /**
     * Where a device reserves guest RAM that the guest must be told is not usable RAM (an OpRegion copy, stolen
     * graphics memory), and the memory map that results; empty when this VMM has no such hook.
     */
    default Optional<MemoryReservations> memoryReservations() {
        return Optional.empty();
    }

    /**
     * Where devices report host unplug requests and errors; by default REQ releases at once and an uncorrectable
     * error stops the guest ({@link DeviceEvents#stopOnError} with {@link #stopGuest}).
     */
    default DeviceEvents deviceEvents() {
        return DeviceEvents.stopOnError(this::stopGuest);
    }

    /**
     * Stops the guest for good: no vCPU runs guest code after this returns or soon after (it must not block; it may
     * be called from an event loop). The VM and its devices stay for inspection until the VMM closes them. The
     * default cannot stop anything and throws {@link UnsupportedOperationException}.
     */
    default void stopGuest(String reason) {
        throw new UnsupportedOperationException(getClass().getName() + " does not implement stopGuest");
    }
}
