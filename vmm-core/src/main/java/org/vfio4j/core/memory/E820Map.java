package org.vfio4j.core.memory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Builds the memory map a guest sees from the VMM's RAM and the ranges devices reserved in it, and encodes it the way
 * firmware and the Linux boot protocol carry it ({@code struct boot_e820_entry}: u64 address, u64 size, u32 type,
 * packed, 20 bytes). A VMM that boots Linux directly copies {@link #encode} into {@code boot_params.e820_table};
 * one with firmware answers INT 15h E820 from {@link #build}.
 */
public final class E820Map {
    /** {@code sizeof(struct boot_e820_entry)}. */
    public static final int ENTRY_SIZE = 20;
    /** {@code offsetof(struct boot_e820_entry, addr)}. */
    public static final int ENTRY_ADDR = 0;
    /** {@code offsetof(struct boot_e820_entry, size)}. */
    public static final int ENTRY_SIZE_FIELD = 8;
    /** {@code offsetof(struct boot_e820_entry, type)}. */
    public static final int ENTRY_TYPE = 16;

    private E820Map() {
    }

    /**
     * The map: every RAM region as {@link E820Type#RAM} except the parts {@code reserved} covers, which appear with
     * their own type; sorted by address, adjacent entries of the same type merged. A reservation outside RAM is
     * listed as it is (a VMM may reserve MMIO-side ranges too).
     */
    public static List<E820Entry> build(List<RamRegion> ram, List<ReservedRange> reserved) {
        List<ReservedRange> res = new ArrayList<>(reserved);
        res.sort(Comparator.comparingLong(ReservedRange::guestAddress));
        List<E820Entry> out = new ArrayList<>();
        for (RamRegion r : ram) {
            long cursor = r.guestAddress();
            for (ReservedRange rr : res) {
                if (!rr.overlaps(r.guestAddress(), r.size())) {
                    continue;
                }
                long cut = Math.max(rr.guestAddress(), r.guestAddress());
                if (cut > cursor) {
                    out.add(new E820Entry(cursor, cut - cursor, E820Type.RAM));
                }
                cursor = Math.max(cursor, Math.min(rr.guestEnd(), r.guestEnd()));
            }
            if (cursor < r.guestEnd()) {
                out.add(new E820Entry(cursor, r.guestEnd() - cursor, E820Type.RAM));
            }
        }
        for (ReservedRange rr : res) {
            out.add(new E820Entry(rr.guestAddress(), rr.size(), rr.type()));
        }
        out.sort(Comparator.comparingLong(E820Entry::address).thenComparing(E820Entry::type));
        List<E820Entry> merged = new ArrayList<>();
        for (E820Entry e : out) {
            E820Entry last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && last.type() == e.type() && last.end() == e.address()) {
                merged.set(merged.size() - 1, new E820Entry(last.address(), last.size() + e.size(), e.type()));
            } else {
                merged.add(e);
            }
        }
        return List.copyOf(merged);
    }

    /** The entries as an array of {@code struct boot_e820_entry}, little-endian. */
    public static byte[] encode(List<E820Entry> entries) {
        ByteBuffer b = ByteBuffer.allocate(entries.size() * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < entries.size(); i++) {
            E820Entry e = entries.get(i);
            int at = i * ENTRY_SIZE;
            b.putLong(at + ENTRY_ADDR, e.address());
            b.putLong(at + ENTRY_SIZE_FIELD, e.size());
            b.putInt(at + ENTRY_TYPE, e.type().code());
        }
        return b.array();
    }
}
