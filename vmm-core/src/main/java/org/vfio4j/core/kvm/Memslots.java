package org.vfio4j.core.kvm;

import java.util.BitSet;

/**
 * The VM's memory-slot numbers: KVM has a fixed budget per address space (KVM_CAP_NR_MEMSLOTS), shared by RAM and
 * device memory. Thread-safe.
 */
public final class Memslots {
    private final int total;
    private final BitSet used = new BitSet();

    /** @param total the budget, from KVM_CAP_NR_MEMSLOTS */
    public Memslots(int total) {
        if (total <= 0) {
            throw new IllegalArgumentException("memslot budget " + total);
        }
        this.total = total;
    }

    /**
     * Takes a free slot number.
     *
     * @param what what the slot is for, for the error message
     * @throws IllegalStateException when all {@link #total()} slots are in use
     */
    public synchronized int allocate(String what) {
        int slot = used.nextClearBit(0);
        if (slot >= total) {
            throw new IllegalStateException("no free KVM memslot for " + what + ": all " + total + " are in use");
        }
        used.set(slot);
        return slot;
    }

    /** Returns a slot number to the pool; freeing a free slot is a bug and throws. */
    public synchronized void free(int slot) {
        if (!used.get(slot)) {
            throw new IllegalStateException("memslot " + slot + " is not allocated");
        }
        used.clear(slot);
    }

    /** Slots in use. */
    public synchronized int inUse() {
        return used.cardinality();
    }

    /** Slots left. */
    public synchronized int available() {
        return total - used.cardinality();
    }

    /** The budget. */
    public int total() {
        return total;
    }
}
