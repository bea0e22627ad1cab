package org.vfio4j.vfio.platform;

/**
 * Where a region of a platform device sits in the guest.
 *
 * @param index the region index
 * @param guestAddress the guest-physical address the VMM chose
 * @param size its size
 * @param mapped mapped as device memory (guest accesses don't exit); false: trapped and forwarded
 * @param readOnly the guest may not write it (writes are dropped)
 */
public record GuestRegion(int index, long guestAddress, long size, boolean mapped, boolean readOnly) {
    @Override
    public String toString() {
        return String.format("region %d at 0x%x size 0x%x %s%s", index, guestAddress, size,
                mapped ? "mapped" : "trapped", readOnly ? " read-only" : "");
    }
}
