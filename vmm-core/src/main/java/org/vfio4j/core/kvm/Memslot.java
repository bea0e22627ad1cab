package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One KVM user memory region (KVM_SET_USER_MEMORY_REGION): host memory at {@code hostAddress} seen by the guest at
 * {@code guestAddress}. It owns its slot number: {@link #close()} deletes the region (size 0) and frees the slot, once.
 * The host memory stays owned by the caller and must outlive the slot.
 */
public final class Memslot implements AutoCloseable {
    private final KvmVm vm;
    private final int slot;
    private final long size;
    private final long hostAddress;
    private final int flags;
    private final String name;
    private volatile long guestAddress;
    private final AtomicBoolean closed = new AtomicBoolean();

    Memslot(KvmVm vm, int slot, long guestAddress, long size, long hostAddress, int flags, String name) {
        this.vm = vm;
        this.slot = slot;
        this.guestAddress = guestAddress;
        this.size = size;
        this.hostAddress = hostAddress;
        this.flags = flags;
        this.name = name;
    }

    /** The slot number (0 .. budget-1). */
    public int slot() {
        return slot;
    }

    /** Where the guest sees the memory now. */
    public long guestAddress() {
        return guestAddress;
    }

    /** The size in bytes. */
    public long size() {
        return size;
    }

    /** The host virtual address of the backing memory. */
    public long hostAddress() {
        return hostAddress;
    }

    /** KVM_MEM_* flags. */
    public int flags() {
        return flags;
    }

    /** What the slot maps, for messages. */
    public String name() {
        return name;
    }

    /** True when guest writes exit as MMIO instead of reaching the memory. */
    public boolean readOnly() {
        return (flags & KvmAbi.KVM_MEM_READONLY) != 0;
    }

    /**
     * Moves the region to {@code newGuestAddress}. KVM treats a changed address with the same slot and size as a
     * move (KVM_MR_MOVE), so this is a single ioctl; vCPUs never see both places.
     */
    public synchronized void move(long newGuestAddress) {
        if (closed.get()) {
            throw new IllegalStateException("memslot " + slot + " (" + name + ") is closed");
        }
        vm.setUserMemoryRegion(slot, flags, newGuestAddress, size, hostAddress, name);
        guestAddress = newGuestAddress;
    }

    /**
     * KVM_GET_DIRTY_LOG: one bit per guest page written since the previous call (the log is reset by the call).
     * Only for slots made with {@link KvmAbi#KVM_MEM_LOG_DIRTY_PAGES}.
     */
    public long[] dirtyLog() {
        if ((flags & KvmAbi.KVM_MEM_LOG_DIRTY_PAGES) == 0) {
            throw new IllegalStateException("memslot " + slot + " (" + name + ") does not log dirty pages");
        }
        long pages = size / 4096;
        long words = (pages + 63) / 64;
        Memory bitmap = new Memory(words * 8);
        bitmap.clear();
        Memory arg = new Memory(KvmAbi.Sizes.DIRTY_LOG);
        arg.clear();
        arg.setInt(0, slot);
        arg.setPointer(8, bitmap);
        vm.fd().ioctl(KvmAbi.KVM_GET_DIRTY_LOG, arg);
        return bitmap.getLongArray(0, (int) words);
    }

    /** True until {@link #close()}. */
    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public synchronized void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                vm.setUserMemoryRegion(slot, flags, guestAddress, 0, hostAddress, name);
            } finally {
                vm.memslots().free(slot);
                vm.forget(this);
            }
        }
    }

    @Override
    public String toString() {
        return String.format("memslot %d %s gpa 0x%x size 0x%x%s", slot, name, guestAddress, size,
                readOnly() ? " ro" : "");
    }
}
