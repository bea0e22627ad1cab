package org.vfio4j.core.memory;

import java.util.Objects;

/**
 * A range of guest RAM a device took for itself: the VMM keeps it out of the usable RAM it reports to the guest and
 * reports it with {@code type} instead.
 *
 * @param guestAddress first guest-physical address
 * @param size length in bytes (positive)
 * @param type how the memory map reports it (never {@link E820Type#RAM})
 * @param owner who reserved it, for logs and errors (e.g. {@code "0000:00:02.0 IGD OpRegion"})
 */
public record ReservedRange(long guestAddress, long size, E820Type type, String owner) {

    /** Validates the fields. */
    public ReservedRange {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(owner, "owner");
        if (size <= 0) {
            throw new IllegalArgumentException("reserved range of " + owner + " has size " + size);
        }
        if (type == E820Type.RAM) {
            throw new IllegalArgumentException("a reserved range cannot be reported as RAM: " + owner);
        }
    }

    /** The first guest address past the range. */
    public long guestEnd() {
        return guestAddress + size;
    }

    /** True when this range and {@code [gpa, gpa + length)} share a byte. */
    public boolean overlaps(long gpa, long length) {
        return Long.compareUnsigned(gpa, guestEnd()) < 0 && Long.compareUnsigned(guestAddress, gpa + length) < 0;
    }

    @Override
    public String toString() {
        return String.format("[0x%x-0x%x) %s %s", guestAddress, guestEnd(), type, owner);
    }
}
