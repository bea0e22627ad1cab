package org.vfio4j.core.memory;

import java.util.List;

/**
 * How a device takes a range of guest RAM for itself and has the VMM report it to the guest as reserved rather than
 * usable RAM: the e820-style hook. IGD passthrough uses it for the OpRegion copy (whose address goes in the ASLS
 * register) and the stolen-memory range (BDSM), the two things real firmware reserves for integrated graphics.
 *
 * <p>The VMM chooses where the range goes; the device fills it through {@link GuestMemory#hostAddress}. The guest
 * must be told before it boots, so reserve while devices are attached, before the guest starts.
 */
public interface MemoryReservations {

    /**
     * Reserves {@code size} bytes of guest RAM aligned to {@code alignment} (a power of two) and ending at or below
     * {@code limit} (e.g. 4 GiB for a 32-bit register), reported to the guest as {@code type}.
     *
     * @return the reservation; closing it gives the range back (idempotent)
     * @throws IllegalStateException when no RAM range fits (naming {@code owner}, size and limit), or when the guest
     *     has already been given its memory map (a hot-plugged device cannot take RAM the guest may be using)
     */
    Reservation reserve(String owner, long size, long alignment, long limit, E820Type type);

    /** The ranges reserved now, by address. */
    List<ReservedRange> reserved();

    /** The memory map the guest should see now: RAM with the reserved ranges cut out and listed with their types. */
    List<E820Entry> e820();

    /** A range taken with {@link #reserve}; {@link #close()} returns it. */
    interface Reservation extends AutoCloseable {
        /** The range. */
        ReservedRange range();

        /** Gives the range back; idempotent. */
        @Override
        void close();
    }
}
