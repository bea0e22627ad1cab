package org.vfio4j.vfio.pci;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.AccessGate;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.util.Closer;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.BarType;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.SparseArea;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Puts each BAR of a passthrough function into the guest's address space where the guest programmed it, and keeps
 * it there through moves and decode toggles.
 *
 * <p><b>Plan</b> (fixed at attach). A memory BAR is split at host-page granularity into ranges mmapped as device
 * memory and ranges that trap:
 * <ul>
 *   <li>no mmap flag on the region, mmap disabled in the options, an I/O BAR or the ROM: all of it traps;</li>
 *   <li>sub-page BAR (smaller than a host page): all of it traps, because a memslot maps whole pages and the page
 *       would also cover whatever the guest places next to the BAR;</li>
 *   <li>sparse-mmap capability: only the listed areas (page-aligned parts) are mapped, gaps trap;</li>
 *   <li>MSI-X table or PBA in the BAR (with or without the MSI-X-mappable capability): the host pages they touch
 *       trap, so the VMM sees every table write; a table that isn't page aligned takes the rest of its pages with
 *       it, and those bytes are forwarded to the device with pread/pwrite;</li>
 *   <li>ranges a {@link DeviceQuirk} claims: trapped the same way.</li>
 * </ul>
 *
 * <p><b>Traps.</b> One trap registration covers the whole BAR. With the mapped ranges in memslots, only accesses to
 * the unmapped ranges exit, so the handler sees exactly the trapped ranges. It sends special ranges (MSI-X table,
 * PBA, quirk ranges) to their handlers and everything else to the device with a pread or pwrite of exactly the
 * access size. It never throws: a failed access reads all-ones and a failed write is dropped.
 *
 * <p><b>Moves and decode toggles.</b> The device tells the mapper what a guest config write changed ({@link
 * #barChanged}, {@link #decodeChanged}) after the write left the config space, so no emulation lock is held while
 * memslots and trap registrations change; the mapper then asks {@link PciBars} where the BAR decodes now, so the
 * last change applied brings the BAR to the guest's latest programming. On any change, the memslots at the old place
 * are removed first (accesses there now trap to the handler, which still reaches the same device), then the trap
 * registration is moved atomically to the new place (or removed when decode is off), then the memslots are added at
 * the new place (until they are, accesses trap to the handler already at the new place). So a vCPU never sees the
 * old mapping together with the new handler: at every instant an address decodes to the BAR's current placement or
 * to nothing.
 *
 * <p><b>Device memory off.</b> Memslots exist only while the device answers at its memory BARs ({@link
 * VirtualConfig.MemoryGate}: memory decode on in the device and not in D3hot). When it stops answering the kernel
 * zaps the mmaps, and a vCPU access through a memslot would make KVM_RUN fail with EFAULT; so the memslots go first
 * and the BARs trap, and the trapped accesses get VFIO's answer (all-ones on read), as on hardware.
 *
 * <p><b>Special ranges.</b> An access that overlaps a special range only partly is split: the bytes inside the range
 * go to its handler, the others to the device, so the device never sees a byte of an emulated range and the guest
 * never reads the device's bytes behind one.
 */
final class BarMapper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BarMapper.class);
    private static final long PAGE = Linux.PAGE_SIZE;

    private final String name;
    private final Vmm vmm;
    private final PciBars bars;
    private final boolean mmapAllowed;
    private final List<Bar> all = new ArrayList<>();
    private final GuestLog guestLog;
    private boolean active;
    private boolean closed;
    /**
     * Trapped accesses inside any BAR's handler. A trap registration closed by a vCPU (the guest turned decode off)
     * does not wait for the accesses inside it, and the BAR then has no registration for close to wait on; so the
     * mapper counts them itself, and close waits here before the caller closes the device fd.
     */
    private final AccessGate gate = new AccessGate();
    /** Whether the device answers at its memory BARs now (memslots allowed). */
    private boolean deviceMemory;

    BarMapper(String name, Vmm vmm, VfioDevice device, PciBars bars, RegionInfo[] regions, boolean mmapAllowed,
            GuestLog guestLog) {
        this.guestLog = guestLog;
        this.name = name;
        this.vmm = vmm;
        this.bars = bars;
        this.mmapAllowed = mmapAllowed;
        for (BarDefinition d : bars.definitions()) {
            all.add(new Bar(d.index(), d.type() == BarType.IO, d.size(), new VfioRegion(device.descriptor(),
                    regions[d.index()]), regions[d.index()].size()));
        }
        if (bars.romSize() > 0) {
            RegionInfo rom = regions[PciBars.ROM];
            all.add(new Bar(PciBars.ROM, false, bars.romSize(), new VfioRegion(device.descriptor(), rom),
                    rom.size()));
        }
    }

    /** The BAR with {@code index}, or null when not implemented. */
    Bar bar(int index) {
        for (Bar b : all) {
            if (b.index == index) {
                return b;
            }
        }
        return null;
    }

    /** Claims a range of a BAR for {@code handler}; only before {@link #activate()}. */
    synchronized void addSpecial(int index, long offset, long length, TrapHandler handler, String why) {
        if (active) {
            throw new IllegalStateException(name + ": BAR ranges can only be claimed during attach");
        }
        Bar b = bar(index);
        if (b == null) {
            throw new VfioException(String.format("%s: cannot trap BAR%d range 0x%x+0x%x: BAR not implemented",
                    name, index, offset, length));
        }
        if (offset < 0 || length <= 0 || offset + length > b.size) {
            throw new VfioException(String.format("%s: BAR%d range 0x%x+0x%x lies outside the 0x%x-byte BAR", name,
                    index, offset, length, b.size));
        }
        for (Special s : b.specials) {
            if (offset < s.offset + s.length && s.offset < offset + length) {
                throw new VfioException(String.format("%s: BAR%d range 0x%x+0x%x (%s) overlaps %s", name, index,
                        offset, length, why, s.why));
            }
        }
        b.specials.add(new Special(offset, length, handler, why));
        b.specials.sort(Comparator.comparingLong(Special::offset));
    }

    /** Computes the plans, mmaps the mappable ranges, and starts following the guest's BAR programming. */
    synchronized void activate() {
        for (Bar b : all) {
            b.plan();
        }
        active = true;
        for (Bar b : all) {
            update(b);
        }
    }

    /**
     * Whether the device answers at its memory BARs ({@link VirtualConfig.MemoryGate}); off removes every memslot
     * (the BARs trap), on adds them back. Nothing happens when it is already so.
     */
    synchronized void deviceMemory(boolean on) {
        if (on == deviceMemory) {
            return;
        }
        deviceMemory = on;
        for (Bar b : all) {
            if (!b.io) {
                update(b);
            }
        }
    }

    /** The guest moved BAR {@code index} (or the ROM, or toggled the ROM's enable): place it where it decodes now. */
    void barChanged(int index) {
        Bar b = bar(index);
        if (b != null) {
            update(b);
        }
    }

    /** The guest toggled memory ({@code memory == true}) or I/O decode: place every BAR of that kind again. */
    void decodeChanged(boolean memory) {
        for (Bar b : all) {
            if (b.io != memory) {
                update(b);
            }
        }
    }

    /** Brings BAR {@code b} to where the guest's programming says it decodes; see the class comment for the order. */
    synchronized void update(Bar b) {
        if (!active || closed) {
            return;
        }
        long want = bars.isDecoding(b.index) ? bars.address(b.index) : -1;
        boolean direct = !b.io && deviceMemory;
        if (want == b.guestBase) {
            if (!direct) {
                b.removeSlots();
            } else if (want != -1 && b.slots.isEmpty()) {
                b.addSlots();
            }
            return;
        }
        b.removeSlots();
        if (want == -1) {
            b.removeTrap();
            return;
        }
        TrapBus bus = b.io ? vmm.pioBus() : vmm.mmioBus();
        String clash = b.io ? null : clash(want, b.size);
        if (clash != null) {
            // The chipset decodes guest RAM and the interrupt window before any PCI device: the BAR gets nothing.
            guestLog.warn("BAR placement", String.format("%s at 0x%x not placed: it overlaps %s", b.label(), want,
                    clash), null);
            b.removeTrap();
            return;
        }
        try {
            if (b.trap == null) {
                b.trap = bus.register(want, b.size, b.handler, name + " " + b.label());
            } else {
                b.trap.move(want);
            }
        } catch (RuntimeException e) {
            // The guest placed the BAR over something else: like a real conflict, the BAR answers nothing.
            guestLog.warn("BAR placement", String.format("%s at 0x%x not placed: %s", b.label(), want,
                    e.getMessage()), null);
            b.removeTrap();
            return;
        }
        b.guestBase = want;
        if (direct) {
            b.addSlots();
        }
    }

    /** The x86 MSI/interrupt window, which no device decodes (and the in-kernel LAPIC sits in). */
    static final long MSI_WINDOW = 0xfee00000L;
    static final long MSI_WINDOW_SIZE = 0x100000L;

    /** What a memory BAR at {@code [base, base + size)} would cover that a BAR never may, or null. */
    private String clash(long base, long size) {
        if (Long.compareUnsigned(base, MSI_WINDOW + MSI_WINDOW_SIZE) < 0
                && Long.compareUnsigned(MSI_WINDOW, base + size) < 0) {
            return "the MSI window 0xfee00000-0xfeefffff";
        }
        for (org.vfio4j.core.memory.RamRegion r : vmm.guestMemory().regions()) {
            if (Long.compareUnsigned(base, r.guestAddress() + r.size()) < 0
                    && Long.compareUnsigned(r.guestAddress(), base + size) < 0) {
                return "guest RAM '" + r.name() + "'";
            }
        }
        return null;
    }

    /** The layout and counters of every BAR. */
    synchronized List<BarLayout> layouts() {
        List<BarLayout> out = new ArrayList<>();
        for (Bar b : all) {
            out.add(new BarLayout(b.index, b.io, b.size, b.guestBase == -1 ? 0 : b.guestBase, b.guestBase != -1,
                    b.mapped, b.trapped, b.reads.sum(), b.writes.sum()));
        }
        return out;
    }

    /**
     * Removes memslots, then trap registrations, then unmaps the host mappings. Idempotent.
     *
     * <p>Closing a trap registration waits for the accesses inside its handler, and then the mapper's own gate waits
     * for those still inside a registration a vCPU closed earlier. This waits without holding the mapper's monitor:
     * a vCPU inside the MSI-X table handler may be waiting for the device lock, held by another vCPU whose config
     * write waits for this monitor to move a BAR. Holding it here closed that cycle until the
     * trap bus's grace limit, and the release then closed the device fd under the handler still running.
     */
    @Override
    public void close() {
        List<TrapBus.Registration> traps = new ArrayList<>();
        Closer c = new Closer();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true; // from now on update() leaves every BAR as it is
            for (Bar b : all) {
                c.run(b::removeSlots);
                TrapBus.Registration t = b.takeTrap();
                if (t != null) {
                    traps.add(t);
                }
            }
        }
        for (TrapBus.Registration t : traps) {
            c.run(t::close);
        }
        gate.close();
        synchronized (this) {
            for (Bar b : all) {
                for (MemoryMapping m : b.mmaps) {
                    c.run(m::close);
                }
                b.mmaps.clear();
            }
        }
        c.rethrow();
    }

    /** A range of a BAR that traps to its own handler instead of the device. */
    private record Special(long offset, long length, TrapHandler handler, String why) {
    }

    /** One BAR: its plan, host mappings, and where it is in the guest now. */
    final class Bar {
        final int index;
        final boolean io;
        final long size;
        final VfioRegion region;
        final long regionSize;
        final List<Special> specials = new ArrayList<>();
        final List<BarLayout.Range> mapped = new ArrayList<>();
        final List<BarLayout.Range> trapped = new ArrayList<>();
        final List<MemoryMapping> mmaps = new ArrayList<>();
        final List<DeviceMemorySlot> slots = new ArrayList<>();
        final LongAdder reads = new LongAdder();
        final LongAdder writes = new LongAdder();
        final TrapHandler handler = new Handler();
        TrapBus.Registration trap;
        long guestBase = -1;

        Bar(int index, boolean io, long size, VfioRegion region, long regionSize) {
            this.index = index;
            this.io = io;
            this.size = size;
            this.region = region;
            this.regionSize = regionSize;
        }

        String label() {
            return index == PciBars.ROM ? "ROM" : "BAR" + index;
        }

        /** Splits the BAR into mapped and trapped ranges and mmaps the mapped ones. */
        void plan() {
            RegionInfo info = region.info();
            String reason = null;
            if (index == PciBars.ROM) {
                reason = "ROM (read through pread)";
            } else if (io) {
                reason = "I/O BAR";
            } else if (!mmapAllowed) {
                reason = "mmap disabled";
            } else if (!info.mmappable()) {
                reason = "no mmap";
            } else if (size < PAGE) {
                reason = "sub-page BAR";
            }
            List<long[]> maps = new ArrayList<>();
            if (reason == null) {
                for (SparseArea a : info.mmapAreas()) {
                    long start = alignUp(a.offset());
                    long end = Math.min(alignDown(a.offset() + a.size()), alignDown(Math.min(size, regionSize)));
                    subtractSpecials(maps, start, end);
                }
            }
            try {
                for (long[] r : maps) {
                    mmaps.add(region.mmap(r[0], r[1] - r[0]));
                    mapped.add(new BarLayout.Range(r[0], r[1] - r[0], "mmap"));
                }
            } catch (RuntimeException | Error e) {
                Closer c = new Closer();
                c.add(e);
                for (MemoryMapping m : mmaps) {
                    c.run(m::close);
                }
                mmaps.clear();
                mapped.clear();
                c.rethrow();
            }
            // Everything not mapped traps; name each piece.
            long pos = 0;
            for (BarLayout.Range m : mapped) {
                addTrapped(pos, m.offset(), reason);
                pos = m.offset() + m.length();
            }
            addTrapped(pos, size, reason);
        }

        private void subtractSpecials(List<long[]> out, long start, long end) {
            long pos = start;
            for (Special s : specials) {
                long sStart = alignDown(s.offset);
                long sEnd = alignUp(s.offset + s.length);
                if (sEnd <= pos || sStart >= end) {
                    continue;
                }
                if (sStart > pos) {
                    out.add(new long[] {pos, sStart});
                }
                pos = Math.max(pos, sEnd);
            }
            if (pos < end) {
                out.add(new long[] {pos, end});
            }
        }

        private void addTrapped(long from, long to, String reason) {
            long pos = from;
            for (Special s : specials) {
                long sStart = Math.max(pos, reason == null ? alignDown(s.offset) : s.offset);
                long sEnd = Math.min(to, reason == null ? alignUp(s.offset + s.length) : s.offset + s.length);
                if (sEnd <= sStart) {
                    continue;
                }
                if (sStart > pos) {
                    trapped.add(new BarLayout.Range(pos, sStart - pos, reason == null ? "sparse gap" : reason));
                }
                trapped.add(new BarLayout.Range(sStart, sEnd - sStart, s.why));
                pos = sEnd;
            }
            if (pos < to) {
                trapped.add(new BarLayout.Range(pos, to - pos, reason == null ? "sparse gap" : reason));
            }
        }

        void addSlots() {
            for (int i = 0; i < mmaps.size(); i++) {
                MemoryMapping m = mmaps.get(i);
                BarLayout.Range r = mapped.get(i);
                try {
                    // A region the device doesn't let us write is mapped read-only: guest writes then exit to the
                    // handler, which drops them, instead of landing in a mapping that must not be written.
                    slots.add(vmm.deviceMemory().map(guestBase + r.offset(), r.length(), m.address(),
                            !region.info().writable(), String.format("%s %s +0x%x", name, label(), r.offset())));
                } catch (RuntimeException e) {
                    // Still correct, only slower: the trap handler covers the range.
                    guestLog.warn("memslot", String.format("%s range %s stays trapped: %s", label(), r,
                            e.getMessage()), null);
                }
            }
        }

        void removeSlots() {
            Closer c = new Closer();
            for (DeviceMemorySlot s : slots) {
                c.run(s::close);
            }
            slots.clear();
            c.rethrow();
        }

        void removeTrap() {
            TrapBus.Registration t = takeTrap();
            if (t != null) {
                t.close();
            }
        }

        /** Forgets the BAR's trap registration (it is no longer placed) and hands it over, open, or null. */
        TrapBus.Registration takeTrap() {
            TrapBus.Registration t = trap;
            trap = null;
            guestBase = -1;
            return t;
        }

        /**
         * Trapped accesses: special ranges to their handlers, the rest to the device at exactly the access size; an
         * access that overlaps a special range only partly is split at the range's edges. Never throws.
         */
        private final class Handler implements TrapHandler {
            @Override
            public long read(long offset, int size) {
                if (!gate.enter()) {
                    return TrapHandler.allOnes(size);
                }
                reads.increment();
                try {
                    Special s = covering(offset, size);
                    if (s != null) {
                        return s.handler.read(offset - s.offset, size);
                    }
                    if (!overlapsSpecial(offset, size)) {
                        return deviceRead(offset, size);
                    }
                    long result = 0;
                    for (long pos = offset, end = offset + size; pos < end; ) {
                        Special in = at(pos);
                        long partEnd = in != null ? Math.min(end, in.offset + in.length) : Math.min(end, next(pos));
                        int len = (int) (partEnd - pos);
                        long part = 0;
                        for (int done = 0; done < len; ) {
                            int n = chunk(len - done);
                            long p = pos + done;
                            long v = in != null ? in.handler.read(p - in.offset, n) : deviceRead(p, n);
                            part |= (v & TrapHandler.allOnes(n)) << (8 * done);
                            done += n;
                        }
                        result |= part << (8 * (pos - offset));
                        pos = partEnd;
                    }
                    return result;
                } catch (RuntimeException e) {
                    guestLog.warn("trapped access", String.format("%s read of %d at 0x%x failed", label(), size,
                            offset), e);
                    return TrapHandler.allOnes(size);
                } finally {
                    gate.exit();
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                if (!gate.enter()) {
                    return;
                }
                writes.increment();
                try {
                    Special s = covering(offset, size);
                    if (s != null) {
                        s.handler.write(offset - s.offset, size, value);
                        return;
                    }
                    if (!overlapsSpecial(offset, size)) {
                        deviceWrite(offset, size, value);
                        return;
                    }
                    for (long pos = offset, end = offset + size; pos < end; ) {
                        Special in = at(pos);
                        long partEnd = in != null ? Math.min(end, in.offset + in.length) : Math.min(end, next(pos));
                        int len = (int) (partEnd - pos);
                        for (int done = 0; done < len; ) {
                            int n = chunk(len - done);
                            long p = pos + done;
                            long v = (value >>> (8 * (p - offset))) & TrapHandler.allOnes(n);
                            if (in != null) {
                                in.handler.write(p - in.offset, n, v);
                            } else {
                                deviceWrite(p, n, v);
                            }
                            done += n;
                        }
                        pos = partEnd;
                    }
                } catch (RuntimeException e) {
                    guestLog.warn("trapped access", String.format("%s write of %d at 0x%x failed", label(), size,
                            offset), e);
                } finally {
                    gate.exit();
                }
            }

            private long deviceRead(long offset, int size) {
                if (offset + size > regionSize) {
                    return TrapHandler.allOnes(size);
                }
                try {
                    return region.read(offset, size);
                } catch (RuntimeException e) {
                    LOG.debug("{}: {} read of {} at 0x{} failed", name, label(), size, Long.toHexString(offset), e);
                    return TrapHandler.allOnes(size);
                }
            }

            private void deviceWrite(long offset, int size, long value) {
                if (index == PciBars.ROM || offset + size > regionSize) {
                    return;
                }
                try {
                    region.write(offset, size, value);
                } catch (RuntimeException e) {
                    LOG.debug("{}: {} write of {} at 0x{} failed", name, label(), size, Long.toHexString(offset), e);
                }
            }

            /** The special range holding all of the access, or null. */
            private Special covering(long offset, int size) {
                for (Special s : specials) {
                    if (offset >= s.offset && offset + size <= s.offset + s.length) {
                        return s;
                    }
                }
                return null;
            }

            private boolean overlapsSpecial(long offset, int size) {
                for (Special s : specials) {
                    if (offset < s.offset + s.length && s.offset < offset + size) {
                        return true;
                    }
                }
                return false;
            }

            private Special at(long pos) {
                for (Special s : specials) {
                    if (pos >= s.offset && pos < s.offset + s.length) {
                        return s;
                    }
                }
                return null;
            }

            /** Where the next special range starts after {@code pos} (the specials are sorted). */
            private long next(long pos) {
                for (Special s : specials) {
                    if (s.offset > pos) {
                        return s.offset;
                    }
                }
                return Long.MAX_VALUE;
            }

            @Override
            public String toString() {
                return name + " " + label();
            }
        }
    }

    /** The largest access size (8, 4, 2, 1) that fits in {@code left} bytes. */
    private static int chunk(int left) {
        return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    }

    private static long alignUp(long v) {
        return (v + PAGE - 1) & ~(PAGE - 1);
    }

    private static long alignDown(long v) {
        return v & ~(PAGE - 1);
    }
}
