package org.vfio4j.core.kvm;

import org.vfio4j.core.memory.DeviceMemoryMapper;
import org.vfio4j.core.memory.DeviceMemorySlot;

/**
 * Device memory over KVM memslots: each mapping is a slot from the VM's budget (shared with RAM). Guest accesses to
 * it never leave guest mode. {@link DeviceMemorySlot#close()} deletes the slot and frees its number.
 */
public final class KvmDeviceMemoryMapper implements DeviceMemoryMapper {
    private final KvmVm vm;

    /** Maps into {@code vm}. */
    public KvmDeviceMemoryMapper(KvmVm vm) {
        this.vm = vm;
    }

    @Override
    public DeviceMemorySlot map(long guestAddress, long size, long hostAddress, boolean readOnly, String name) {
        Memslot slot = vm.mapMemory(guestAddress, size, hostAddress, readOnly ? KvmAbi.KVM_MEM_READONLY : 0, name);
        return new Slot(slot);
    }

    @Override
    public int slotsAvailable() {
        return vm.memslots().available();
    }

    @Override
    public int slotsTotal() {
        return vm.memslots().total();
    }

    /** A device mapping backed by one memslot. */
    private static final class Slot implements DeviceMemorySlot {
        private final Memslot slot;

        Slot(Memslot slot) {
            this.slot = slot;
        }

        @Override
        public long guestAddress() {
            return slot.guestAddress();
        }

        @Override
        public long size() {
            return slot.size();
        }

        @Override
        public long hostAddress() {
            return slot.hostAddress();
        }

        @Override
        public String name() {
            return slot.name();
        }

        @Override
        public void move(long newGuestAddress) {
            slot.move(newGuestAddress);
        }

        @Override
        public void close() {
            slot.close();
        }

        @Override
        public String toString() {
            return slot.toString();
        }
    }
}
