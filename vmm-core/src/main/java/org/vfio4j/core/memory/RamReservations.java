package org.vfio4j.core.memory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link MemoryReservations} over a {@link GuestMemory}: ranges are carved top-down out of the highest RAM below the
 * caller's limit, as firmware allocates its reserved tables from the top of low memory, and never below 1 MiB (the
 * real-mode area, where the BIOS data and option ROMs live). A VMM calls {@link #e820()} when it builds the guest's
 * memory map.
 */
public final class RamReservations implements MemoryReservations {
    /** Reservations never start below this address. */
    public static final long FLOOR = 1L << 20;

    private final GuestMemory memory;
    private final List<ReservedRange> ranges = new ArrayList<>();
    private boolean sealed;

    /** Reservations in {@code memory}'s RAM. */
    public RamReservations(GuestMemory memory) {
        this.memory = Objects.requireNonNull(memory, "memory");
    }

    @Override
    public synchronized Reservation reserve(String owner, long size, long alignment, long limit, E820Type type) {
        Objects.requireNonNull(owner, "owner");
        if (sealed) {
            throw new IllegalStateException(owner + ": the guest already has its memory map; guest RAM can no longer "
                    + "be reserved (a device that needs reserved RAM cannot be hot-plugged)");
        }
        if (size <= 0 || alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException(owner + ": reservation of 0x" + Long.toHexString(size)
                    + " bytes with alignment 0x" + Long.toHexString(alignment) + " is not valid");
        }
        List<RamRegion> ram = new ArrayList<>(memory.regions());
        ram.sort(Comparator.comparingLong(RamRegion::guestAddress).reversed());
        for (RamRegion r : ram) {
            long low = Math.max(r.guestAddress(), FLOOR);
            long end = Math.min(r.guestEnd(), limit);
            while (end - low >= size) {
                long start = (end - size) & -alignment;
                if (start < low) {
                    break;
                }
                ReservedRange clash = null;
                for (ReservedRange rr : ranges) {
                    if (rr.overlaps(start, size) && (clash == null || rr.guestAddress() < clash.guestAddress())) {
                        clash = rr;
                    }
                }
                if (clash == null) {
                    ReservedRange got = new ReservedRange(start, size, type, owner);
                    ranges.add(got);
                    ranges.sort(Comparator.comparingLong(ReservedRange::guestAddress));
                    return new Held(got);
                }
                end = clash.guestAddress();
            }
        }
        throw new IllegalStateException(String.format("%s: no guest RAM range of 0x%x bytes (alignment 0x%x) below "
                + "0x%x is free to reserve; RAM %s, reserved %s", owner, size, alignment, limit, memory.regions(),
                ranges));
    }

    /**
     * Says the guest has been given its memory map (the VMM calls this when it boots the guest): from now on
     * {@link #reserve} refuses, since the guest may already use any RAM it was told about. Releasing still works.
     */
    public synchronized void seal() {
        sealed = true;
    }

    /** True after {@link #seal()}. */
    public synchronized boolean isSealed() {
        return sealed;
    }

    @Override
    public synchronized List<ReservedRange> reserved() {
        return List.copyOf(ranges);
    }

    @Override
    public List<E820Entry> e820() {
        return E820Map.build(memory.regions(), reserved());
    }

    private synchronized void release(ReservedRange r) {
        ranges.remove(r);
    }

    private final class Held implements Reservation {
        private final ReservedRange range;
        private final AtomicBoolean closed = new AtomicBoolean();

        Held(ReservedRange range) {
            this.range = range;
        }

        @Override
        public ReservedRange range() {
            return range;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(range);
            }
        }

        @Override
        public String toString() {
            return "Reservation" + range;
        }
    }
}
