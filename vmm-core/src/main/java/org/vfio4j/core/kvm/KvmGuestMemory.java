package org.vfio4j.core.kvm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.core.sys.MemoryMapping;

/**
 * Guest RAM over KVM memslots: each region is an anonymous shared mapping plus a memslot. Adding and removing
 * regions tells the listeners (removal before the memory goes). Closing removes every region.
 */
public final class KvmGuestMemory implements GuestMemory, AutoCloseable {
    private final KvmVm vm;
    private final List<Ram> regions = new CopyOnWriteArrayList<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    /** Guest RAM of {@code vm}, initially empty. */
    public KvmGuestMemory(KvmVm vm) {
        this.vm = vm;
    }

    /** One region: its description, the host mapping and the memslot. */
    private record Ram(RamRegion region, MemoryMapping mapping, Memslot slot) {
    }

    @Override
    public List<RamRegion> regions() {
        List<RamRegion> out = new ArrayList<>();
        for (Ram r : regions) {
            out.add(r.region());
        }
        out.sort(Comparator.comparingLong(RamRegion::guestAddress));
        return out;
    }

    /**
     * Adds {@code size} bytes of zeroed RAM at {@code guestAddress} (both page-aligned) and tells the listeners.
     *
     * @throws IllegalArgumentException when the range overlaps existing RAM
     */
    public synchronized RamRegion addRam(long guestAddress, long size, String name) {
        RamRegion region;
        for (Ram r : regions) {
            RamRegion e = r.region();
            if (Long.compareUnsigned(guestAddress, e.guestEnd()) < 0
                    && Long.compareUnsigned(e.guestAddress(), guestAddress + size) < 0) {
                throw new IllegalArgumentException(String.format("RAM %s at 0x%x+0x%x overlaps %s", name,
                        guestAddress, size, e));
            }
        }
        MemoryMapping mapping = MemoryMapping.anonymous(vm.syscalls(), size, "guest RAM " + name);
        Memslot slot;
        try {
            slot = vm.mapMemory(guestAddress, size, mapping.address(), 0, "RAM " + name);
        } catch (RuntimeException e) {
            mapping.close();
            throw e;
        }
        region = new RamRegion(guestAddress, size, mapping.address(), name);
        regions.add(new Ram(region, mapping, slot));
        for (Listener l : listeners) {
            l.ramAdded(region);
        }
        return region;
    }

    /** Removes {@code region}: listeners first (the memory is still mapped), then the memslot, then the mapping. */
    public synchronized void removeRam(RamRegion region) {
        Ram ram = null;
        for (Ram r : regions) {
            if (r.region().equals(region)) {
                ram = r;
            }
        }
        if (ram == null) {
            throw new IllegalArgumentException("not guest RAM: " + region);
        }
        for (Listener l : listeners) {
            l.ramRemoved(region);
        }
        regions.remove(ram);
        try {
            ram.slot().close();
        } finally {
            ram.mapping().close();
        }
    }

    /** The host mapping behind {@code gpa}, for the VMM to load guest code or inspect guest writes. */
    public MemoryMapping mappingAt(long gpa) {
        for (Ram r : regions) {
            if (r.region().contains(gpa, 1)) {
                return r.mapping();
            }
        }
        throw new IllegalArgumentException(String.format("guest address 0x%x is not RAM", gpa));
    }

    /** Copies {@code bytes} into guest RAM at {@code gpa}. */
    public void write(long gpa, byte[] bytes) {
        MemoryMapping m = mappingAt(gpa);
        RamRegion r = regionAt(gpa);
        m.write(gpa - r.guestAddress(), bytes, 0, bytes.length);
    }

    /** Reads {@code length} bytes of guest RAM at {@code gpa}. */
    public byte[] read(long gpa, int length) {
        MemoryMapping m = mappingAt(gpa);
        RamRegion r = regionAt(gpa);
        byte[] out = new byte[length];
        m.read(gpa - r.guestAddress(), out, 0, length);
        return out;
    }

    private RamRegion regionAt(long gpa) {
        for (Ram r : regions) {
            if (r.region().contains(gpa, 1)) {
                return r.region();
            }
        }
        throw new IllegalArgumentException(String.format("guest address 0x%x is not RAM", gpa));
    }

    @Override
    public AutoCloseable addListener(Listener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Removes all RAM (listeners are told). Idempotent. */
    @Override
    public synchronized void close() {
        for (Ram r : new ArrayList<>(regions)) {
            removeRam(r.region());
        }
    }
}
