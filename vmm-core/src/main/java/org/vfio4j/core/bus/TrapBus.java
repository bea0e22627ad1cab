package org.vfio4j.core.bus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dispatches trapped guest accesses in an address space (guest-physical MMIO, or port I/O) to the
 * {@link TrapHandler} registered for the range that contains them.
 *
 * <p>Lookups run on vCPU threads and take no lock: the ranges live in an immutable sorted array that
 * registration, moves and removals replace as a whole (copy on write). A handler can be swapped, and a range moved,
 * atomically: a vCPU sees either the old state or the new one, never a mix.
 *
 * <p>An access that no range claims gets the hardware answer: all-ones on read, the write dropped. Such accesses are
 * counted in {@link #unclaimedAccesses()}. An access that straddles the end of a range is cut to the part inside it
 * only if it fits entirely; otherwise it is unclaimed.
 *
 * <p><b>Grace period.</b> Closing a registration waits until the accesses already inside its handler have returned
 * (new ones no longer reach it), so an owner can release what its handler uses (a device fd) right after. Called
 * from inside a trap handler (a guest access that releases a range), close does not wait: the calling vCPU may
 * hold locks that another vCPU inside the handler is waiting for.
 */
public final class TrapBus {
    private static final Logger LOG = LoggerFactory.getLogger(TrapBus.class);
    private final String name;
    private final Object writeLock = new Object();
    private volatile Entry[] entries = new Entry[0];
    private final LongAdder unclaimed = new LongAdder();

    /** @param name the address space, for error messages ("mmio", "pio") */
    public TrapBus(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /**
     * Claims {@code [base, base + length)} for {@code handler}.
     *
     * @param owner who holds the range, for error messages (e.g. "0000:00:03.0 BAR2")
     * @throws TrapOverlapException when the range overlaps one already registered; the message names both
     */
    public Registration register(long base, long length, TrapHandler handler, String owner) {
        if (length <= 0 || Long.compareUnsigned(base + length - 1, base) < 0) {
            throw new IllegalArgumentException(String.format("%s: bad range base 0x%x length 0x%x for %s", name,
                    base, length, owner));
        }
        Handle handle = new Handle();
        synchronized (writeLock) {
            Entry entry = new Entry(base, length, handler, owner, handle);
            entries = insert(entries, entry, null);
            handle.current = entry;
        }
        return handle;
    }

    /** Every registered range, in address order. */
    public List<Registration> registrations() {
        List<Registration> out = new ArrayList<>();
        for (Entry e : entries) {
            out.add(e.handle);
        }
        return out;
    }

    /** The number of accesses no range claimed since this bus was created. */
    public long unclaimedAccesses() {
        return unclaimed.sum();
    }

    /** Reads {@code size} bytes at {@code address}; all-ones when nothing claims the access. */
    public long read(long address, int size) {
        Entry e = find(entries, address, size);
        if (e == null || !e.handle.gate.enter()) {
            unclaimed.increment();
            return TrapHandler.allOnes(size);
        }
        try {
            return e.handler.read(address - e.base, size);
        } finally {
            e.handle.gate.exit();
        }
    }

    /** Writes the low {@code size} bytes of {@code value} at {@code address}; dropped when nothing claims it. */
    public void write(long address, int size, long value) {
        Entry e = find(entries, address, size);
        if (e == null || !e.handle.gate.enter()) {
            unclaimed.increment();
            return;
        }
        try {
            e.handler.write(address - e.base, size, value);
        } finally {
            e.handle.gate.exit();
        }
    }

    /** True when the calling thread is inside a trap handler of some bus (a vCPU dispatching a guest access). */
    static boolean insideDispatch() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName()
                .equals(TrapBus.class.getName()) && (f.getMethodName().equals("read")
                        || f.getMethodName().equals("write"))));
    }

    private static Entry find(Entry[] table, long address, int size) {
        int lo = 0;
        int hi = table.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Entry e = table[mid];
            if (Long.compareUnsigned(address, e.base) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(address - e.base, e.length) >= 0) {
                lo = mid + 1;
            } else {
                return Long.compareUnsigned(address - e.base + size, e.length) <= 0 ? e : null;
            }
        }
        return null;
    }

    private Entry[] insert(Entry[] table, Entry entry, Entry replacing) {
        List<Entry> out = new ArrayList<>(table.length + 1);
        for (Entry e : table) {
            if (e == replacing) {
                continue;
            }
            if (overlaps(e, entry)) {
                throw new TrapOverlapException(String.format(
                        "%s: range 0x%x-0x%x for %s overlaps 0x%x-0x%x registered by %s", name, entry.base,
                        entry.base + entry.length - 1, entry.owner, e.base, e.base + e.length - 1, e.owner));
            }
            out.add(e);
        }
        out.add(entry);
        Entry[] result = out.toArray(new Entry[0]);
        Arrays.sort(result, (a, b) -> Long.compareUnsigned(a.base, b.base));
        return result;
    }

    private static boolean overlaps(Entry a, Entry b) {
        return Long.compareUnsigned(a.base, b.base + b.length - 1) <= 0
                && Long.compareUnsigned(b.base, a.base + a.length - 1) <= 0;
    }

    /** A claimed range. Closing it releases the range; closing twice is harmless. */
    public interface Registration extends AutoCloseable {
        long base();

        long length();

        String owner();

        TrapHandler handler();

        /** Swaps the handler atomically: each access goes wholly to the old or wholly to the new one. */
        void replace(TrapHandler handler);

        /**
         * Moves the range to {@code newBase} atomically (a BAR move).
         *
         * @throws TrapOverlapException when the new place overlaps another range; the range stays where it was
         */
        void move(long newBase);

        @Override
        void close();
    }

    /** One published range. Immutable: a move or a handler swap publishes a new entry in a new table. */
    private static final class Entry {
        final long base;
        final long length;
        final TrapHandler handler;
        final String owner;
        final Handle handle;

        Entry(long base, long length, TrapHandler handler, String owner, Handle handle) {
            this.base = base;
            this.length = length;
            this.handler = handler;
            this.owner = owner;
            this.handle = handle;
        }
    }

    /** The caller's handle on a range; it follows the range through moves and handler swaps. */
    private final class Handle implements Registration {
        private volatile Entry current;
        private volatile boolean closed;
        /** Accesses inside the handler now; closed after the range left the table. */
        final AccessGate gate = new AccessGate();

        @Override
        public long base() {
            return current.base;
        }

        @Override
        public long length() {
            return current.length;
        }

        @Override
        public String owner() {
            return current.owner;
        }

        @Override
        public TrapHandler handler() {
            return current.handler;
        }

        @Override
        public void replace(TrapHandler newHandler) {
            republish(current.base, newHandler);
        }

        @Override
        public void move(long newBase) {
            republish(newBase, current.handler);
        }

        private void republish(long newBase, TrapHandler newHandler) {
            synchronized (writeLock) {
                if (closed) {
                    throw new IllegalStateException(name + ": range of " + current.owner + " was released");
                }
                Entry old = current;
                Entry next = new Entry(newBase, old.length, newHandler, old.owner, this);
                entries = insert(entries, next, old);
                current = next;
            }
        }

        @Override
        public void close() {
            synchronized (writeLock) {
                if (closed) {
                    return;
                }
                closed = true;
                List<Entry> out = new ArrayList<>(Arrays.asList(entries));
                out.remove(current);
                entries = out.toArray(new Entry[0]);
            }
            if (!gate.close() && gate.inside() > 0 && !insideDispatch()) {
                LOG.warn("{}: {} released with {} access(es) still inside its handler", name, current.owner,
                        gate.inside());
            }
        }

        @Override
        public String toString() {
            Entry e = current;
            return String.format("%s 0x%x-0x%x %s%s", name, e.base, e.base + e.length - 1, e.owner,
                    closed ? " (released)" : "");
        }
    }
}
