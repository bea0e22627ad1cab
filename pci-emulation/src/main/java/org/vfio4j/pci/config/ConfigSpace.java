package org.vfio4j.pci.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A configuration space image with per-bit register semantics, the building block of every emulated PCI function.
 *
 * <p>Each bit has a class, given by three masks over the image:
 * <ul>
 *   <li>{@linkplain #setWritable writable}: a guest write stores the written bit (RW);</li>
 *   <li>{@linkplain #setClearOnWrite clear-on-write}: writing a one clears the bit, writing zero leaves it (RW1C,
 *       as in the status register); the device sets such bits through {@link #setBits};</li>
 *   <li>neither: read-only or hardwired; only the device (through the raw setters) changes it.</li>
 * </ul>
 * A fourth mask, {@linkplain #setEmulated emulated}, chooses per bit whether the guest sees the image or the
 * {@link ConfigPassthrough} backing (a physical function). Every bit starts emulated, read-only and zero.
 *
 * <p>Guest accesses ({@link #read}, {@link #guestWrite}, {@link #write}) follow {@link ConfigAccess}: bad accesses read
 * all-ones and are dropped, and nothing throws. A guest write runs the {@linkplain #addWriteHook write hooks} of the
 * registers it touched, which keep the image consistent and say what changed ({@link ConfigChange}: a BAR moved, a
 * decode enable or an interrupt capability changed); {@link #guestWrite} returns those changes so the owner applies
 * them after the lock is released. {@link #write} drops them: for functions whose owner has nothing to apply. The
 * raw accessors ({@link #getDword}, {@link #setWord}, ...) are for device logic: they bypass the masks and the
 * hooks, and reject bad offsets with exceptions because they are programming errors.
 * All methods are thread-safe; guest writes are serialized per config space.
 *
 * <p>The image's lock is never held across the {@link ConfigPassthrough} (a syscall for a VFIO function): a guest
 * read takes the emulated part under the lock and reads the device without it; a guest write updates the image under
 * the lock, forwards the device's bits without it and runs the hooks under it again (writes are ordered among
 * themselves by a second lock, so hooks see them in order). Passed-through bits the device cannot change while it
 * runs (ids, class, capability headers) can be {@linkplain #setCached cached}: read from the device once, then
 * answered from memory until {@link #invalidateCache()} (after a reset, a REQ or an error).
 */
public final class ConfigSpace implements ConfigAccess {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigSpace.class);

    private final String name;
    private final byte[] image;
    private final byte[] writable;
    private final byte[] clearOnWrite;
    private final byte[] emulated;
    /** Passed-through bits that may be answered from {@link #cache} once read. */
    private final byte[] cacheable;
    /** The device's value of the cacheable bits read so far. */
    private final byte[] cache;
    /** Which cacheable bits {@link #cache} holds. */
    private final byte[] cached;
    /** Bumped by {@link #invalidateCache()}, so a device read that raced with it does not refill the cache. */
    private long cacheGeneration;
    /** Orders guest writes (image update, device write, hooks) among themselves; taken before the image lock. */
    private final Object writeOrder = new Object();
    private final List<WatchedRange> hooks = new CopyOnWriteArrayList<>();
    private volatile ConfigPassthrough passthrough;
    private final ConfigView view = new ReadOnly();

    /** An all-zero, all read-only, fully emulated space of the given size; {@code name} appears in log messages. */
    public ConfigSpace(String name, ConfigSpaceSize size) {
        this.name = Objects.requireNonNull(name, "name");
        int n = size.bytes();
        this.image = new byte[n];
        this.writable = new byte[n];
        this.clearOnWrite = new byte[n];
        this.emulated = new byte[n];
        this.cacheable = new byte[n];
        this.cache = new byte[n];
        this.cached = new byte[n];
        Arrays.fill(emulated, (byte) 0xFF);
    }

    /**
     * A space whose image starts as a copy of {@code bytes} (256 or 4096 of them, e.g. read from a physical
     * function), all read-only and emulated until the owner says otherwise.
     */
    public static ConfigSpace copyOf(String name, byte[] bytes) {
        ConfigSpace cs = new ConfigSpace(name, ConfigSpaceSize.ofLength(bytes.length));
        System.arraycopy(bytes, 0, cs.image, 0, bytes.length);
        return cs;
    }

    /** The name given at construction, used in log messages (e.g. the device's BDF or model). */
    public String name() {
        return name;
    }

    @Override
    public int length() {
        return image.length;
    }

    // ---------------------------------------------------------------------------------------------- guest accesses

    @Override
    public long read(int offset, int size) {
        if (!ConfigAccess.isValidAccess(image.length, offset, size)) {
            return ConfigAccess.allOnes(size);
        }
        long all = ConfigAccess.allOnes(size);
        long emu;
        long emuMask;
        long fromDevice;
        long generation;
        ConfigPassthrough pt;
        synchronized (this) {
            emu = get(image, offset, size);
            pt = passthrough;
            if (pt == null) {
                return emu;
            }
            emuMask = get(emulated, offset, size);
            if (emuMask == all) {
                return emu;
            }
            fromDevice = ~emuMask & all;
            long have = get(cached, offset, size) & fromDevice;
            if (have == fromDevice) {
                return ((emu & emuMask) | (get(cache, offset, size) & fromDevice)) & all;
            }
            generation = cacheGeneration;
        }
        long hw;
        try {
            hw = pt.read(offset, size);
        } catch (RuntimeException e) {
            LOG.warn("{}: config read of {} bytes at 0x{} from the backing function failed", name, size,
                    Integer.toHexString(offset), e);
            return ((emu & emuMask) | ~emuMask) & all;
        }
        long keep = 0;
        synchronized (this) {
            if (generation == cacheGeneration) {
                keep = get(cacheable, offset, size) & fromDevice;
                if (keep != 0) {
                    put(cache, offset, size, (get(cache, offset, size) & ~keep) | (hw & keep));
                    put(cached, offset, size, get(cached, offset, size) | keep);
                }
            }
        }
        return ((emu & emuMask) | (hw & ~emuMask)) & all;
    }

    /** A guest write whose {@linkplain #guestWrite changes} nobody applies. */
    @Override
    public void write(int offset, int size, long value) {
        guestWrite(offset, size, value);
    }

    /**
     * A guest write: updates the image with the register semantics, forwards the passed-through bits to the
     * {@link ConfigPassthrough}, runs the hooks of the registers it touched, and returns what they say changed, in
     * order ({@link List#of()} when nothing did, and for an access hardware would reject). The owner applies the
     * changes after this returns: no lock of this space is held then.
     */
    public List<ConfigChange> guestWrite(int offset, int size, long value) {
        if (!ConfigAccess.isValidAccess(image.length, offset, size)) {
            return List.of();
        }
        long all = ConfigAccess.allOnes(size);
        long v = value & all;
        synchronized (writeOrder) {
            long before;
            long after;
            long passMask;
            ConfigPassthrough pt;
            synchronized (this) {
                before = get(image, offset, size);
                long w = get(writable, offset, size);
                long c = get(clearOnWrite, offset, size);
                after = ((before & ~w) | (v & w)) & ~(v & c);
                put(image, offset, size, after);
                pt = passthrough;
                passMask = ~get(emulated, offset, size) & all;
                if (pt != null && passMask != 0) {
                    // a write reaching the device may change what it answers there: read it again next time
                    put(cached, offset, size, get(cached, offset, size) & ~passMask);
                }
            }
            if (pt != null && passMask != 0) {
                try {
                    pt.write(offset, size, v, passMask);
                } catch (RuntimeException e) {
                    LOG.warn("{}: config write of {} bytes at 0x{} to the backing function failed", name, size,
                            Integer.toHexString(offset), e);
                }
            }
            if (hooks.isEmpty()) {
                return List.of();
            }
            List<ConfigChange> changes = List.of();
            synchronized (this) {
                for (WatchedRange h : hooks) {
                    if (offset < h.end && offset + size > h.start) {
                        try {
                            List<ConfigChange> more = h.hook.written(offset, size, v, before, after);
                            if (!more.isEmpty()) {
                                if (changes.isEmpty()) {
                                    changes = new ArrayList<>();
                                }
                                changes.addAll(more);
                            }
                        } catch (RuntimeException e) {
                            LOG.warn("{}: config write hook for 0x{}..0x{} failed", name,
                                    Integer.toHexString(h.start), Integer.toHexString(h.end - 1), e);
                        }
                    }
                }
            }
            return changes;
        }
    }

    // ------------------------------------------------------------------------------------------- owner's controls

    /** Sets the backing for non-emulated bits; {@code null} makes every bit come from the image again. */
    public synchronized void setPassthrough(ConfigPassthrough backing) {
        this.passthrough = backing;
        invalidateCache();
    }

    /**
     * Runs {@code hook} after every guest write that touches a byte in {@code [offset, offset + length)}. Hooks run
     * in registration order; {@link #guestWrite} returns their changes in that order.
     */
    public void addWriteHook(int offset, int length, ConfigWriteHook hook) {
        checkRange(offset, length);
        hooks.add(new WatchedRange(offset, offset + length, Objects.requireNonNull(hook, "hook")));
    }

    /** Makes the bits set in {@code mask} guest-writable (RW) and the other bits of the register not writable. */
    public synchronized void setWritable(int offset, int size, long mask) {
        checkRange(offset, size);
        put(writable, offset, size, mask);
    }

    /** Makes the bits set in {@code mask} write-one-to-clear (RW1C) and the other bits of the register not RW1C. */
    public synchronized void setClearOnWrite(int offset, int size, long mask) {
        checkRange(offset, size);
        put(clearOnWrite, offset, size, mask);
    }

    /** Makes the bits set in {@code mask} come from the image and the others from the {@link ConfigPassthrough}. */
    public synchronized void setEmulated(int offset, int size, long mask) {
        checkRange(offset, size);
        put(emulated, offset, size, mask);
    }

    /** Adds the bits of {@code mask} to the emulated bits of the {@code size}-byte register at {@code offset}. */
    public synchronized void addEmulated(int offset, int size, long mask) {
        checkRange(offset, size);
        put(emulated, offset, size, get(emulated, offset, size) | mask);
    }

    /**
     * Lets the passed-through bits of {@code mask} in the {@code size}-byte register at {@code offset} be answered from
     * memory after the first read from the device: for bits the device cannot change while it runs (vendor and device
     * id, revision and class, header type, subsystem ids, capability ids and next pointers). A guest write that
     * reaches those bits, {@link #setPassthrough} and {@link #invalidateCache()} make the next read go to the device.
     */
    public synchronized void setCached(int offset, int size, long mask) {
        checkRange(offset, size);
        put(cacheable, offset, size, mask);
        put(cached, offset, size, get(cached, offset, size) & mask);
    }

    /** {@link #setCached} for every bit of {@code [offset, offset + length)}. */
    public synchronized void setCachedRange(int offset, int length) {
        checkRange(offset, length);
        Arrays.fill(cacheable, offset, offset + length, (byte) 0xFF);
    }

    /**
     * Forgets every cached device value: the next guest read of a cached bit goes to the device. For the owner after
     * anything that may change what the device answers (a reset, an unplug request, an error, a new backing).
     */
    public synchronized void invalidateCache() {
        Arrays.fill(cached, (byte) 0);
        cacheGeneration++;
    }

    /** True when the next guest read of the {@code size} bytes at {@code offset} needs no device access. */
    public synchronized boolean answersFromMemory(int offset, int size) {
        checkRange(offset, size);
        long fromDevice = ~get(emulated, offset, size) & ConfigAccess.allOnes(size);
        return passthrough == null || (get(cached, offset, size) & fromDevice) == fromDevice;
    }

    /** Makes every bit of {@code [offset, offset + length)} read-only (neither RW nor RW1C). */
    public synchronized void setReadOnly(int offset, int length) {
        checkRange(offset, length);
        Arrays.fill(writable, offset, offset + length, (byte) 0);
        Arrays.fill(clearOnWrite, offset, offset + length, (byte) 0);
    }

    /** Marks every bit of {@code [offset, offset + length)} emulated (true) or passed through (false). */
    public synchronized void setEmulatedRange(int offset, int length, boolean emulate) {
        checkRange(offset, length);
        Arrays.fill(emulated, offset, offset + length, emulate ? (byte) 0xFF : (byte) 0);
    }

    /** The RW mask of {@code size} bytes at {@code offset}. */
    public synchronized long writableMask(int offset, int size) {
        checkRange(offset, size);
        return get(writable, offset, size);
    }

    /** The RW1C mask of {@code size} bytes at {@code offset}. */
    public synchronized long clearOnWriteMask(int offset, int size) {
        checkRange(offset, size);
        return get(clearOnWrite, offset, size);
    }

    /** The emulated-bits mask of {@code size} bytes at {@code offset}. */
    public synchronized long emulatedMask(int offset, int size) {
        checkRange(offset, size);
        return get(emulated, offset, size);
    }

    // --------------------------------------------------------------------------------------- raw image (device side)

    /** The image byte at {@code offset}, bypassing masks, hooks and passthrough. */
    public synchronized int getByte(int offset) {
        checkRange(offset, 1);
        return (int) get(image, offset, 1);
    }

    /** The little-endian image word at {@code offset}, bypassing masks, hooks and passthrough. */
    public synchronized int getWord(int offset) {
        checkRange(offset, 2);
        return (int) get(image, offset, 2);
    }

    /** The little-endian image dword at {@code offset}, bypassing masks, hooks and passthrough. */
    public synchronized int getDword(int offset) {
        checkRange(offset, 4);
        return (int) get(image, offset, 4);
    }

    /** Stores a byte in the image, bypassing masks and hooks: how the device changes read-only bits. */
    public synchronized void setByte(int offset, int value) {
        checkRange(offset, 1);
        put(image, offset, 1, value);
    }

    /** Stores a little-endian word in the image, bypassing masks and hooks. */
    public synchronized void setWord(int offset, int value) {
        checkRange(offset, 2);
        put(image, offset, 2, value);
    }

    /** Stores a little-endian dword in the image, bypassing masks and hooks. */
    public synchronized void setDword(int offset, int value) {
        checkRange(offset, 4);
        put(image, offset, 4, value);
    }

    /** Sets (device side) the bits of {@code mask} in the {@code size}-byte register at {@code offset}. */
    public synchronized void setBits(int offset, int size, long mask) {
        checkRange(offset, size);
        put(image, offset, size, get(image, offset, size) | mask);
    }

    /** Clears (device side) the bits of {@code mask} in the {@code size}-byte register at {@code offset}. */
    public synchronized void clearBits(int offset, int size, long mask) {
        checkRange(offset, size);
        put(image, offset, size, get(image, offset, size) & ~mask);
    }

    /** Copies {@code bytes} into the image at {@code offset}, bypassing masks and hooks. */
    public synchronized void setBytes(int offset, byte[] bytes) {
        checkRange(offset, bytes.length);
        System.arraycopy(bytes, 0, image, offset, bytes.length);
    }

    /** Zeroes the image in {@code [offset, offset + length)} and makes it read-only. */
    public synchronized void clear(int offset, int length) {
        checkRange(offset, length);
        Arrays.fill(image, offset, offset + length, (byte) 0);
        setReadOnly(offset, length);
    }

    /** A copy of the whole emulated image. */
    public synchronized byte[] snapshot() {
        return image.clone();
    }

    /** A read-only view of this space, for code that must not write it or change its semantics. */
    public ConfigView view() {
        return view;
    }

    @Override
    public String toString() {
        return "ConfigSpace[" + name + ", " + image.length + " bytes]";
    }

    private void checkRange(int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > image.length) {
            throw new IndexOutOfBoundsException(name + ": config range 0x" + Integer.toHexString(offset) + "+"
                    + length + " is outside the " + image.length + "-byte space");
        }
    }

    private static long get(byte[] a, int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (a[offset + i] & 0xFF);
        }
        return v;
    }

    private static void put(byte[] a, int offset, int size, long v) {
        for (int i = 0; i < size; i++) {
            a[offset + i] = (byte) (v >>> (8 * i));
        }
    }

    private record WatchedRange(int start, int end, ConfigWriteHook hook) {
    }

    /** The view: every method reads this space; a cast cannot reach the space itself. */
    private final class ReadOnly implements ConfigView {
        @Override
        public String name() {
            return name;
        }

        @Override
        public int length() {
            return image.length;
        }

        @Override
        public long read(int offset, int size) {
            return ConfigSpace.this.read(offset, size);
        }

        @Override
        public int getByte(int offset) {
            return ConfigSpace.this.getByte(offset);
        }

        @Override
        public int getWord(int offset) {
            return ConfigSpace.this.getWord(offset);
        }

        @Override
        public int getDword(int offset) {
            return ConfigSpace.this.getDword(offset);
        }

        @Override
        public long emulatedMask(int offset, int size) {
            return ConfigSpace.this.emulatedMask(offset, size);
        }

        @Override
        public long writableMask(int offset, int size) {
            return ConfigSpace.this.writableMask(offset, size);
        }

        @Override
        public long clearOnWriteMask(int offset, int size) {
            return ConfigSpace.this.clearOnWriteMask(offset, size);
        }

        @Override
        public byte[] snapshot() {
            return ConfigSpace.this.snapshot();
        }

        @Override
        public String toString() {
            return "read-only view of " + ConfigSpace.this;
        }
    }
}
