package org.vfio4j.pci.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The per-bit register classes and the access rules of {@link ConfigSpace}. */
class ConfigSpaceTest {

    private static ConfigSpace space() {
        ConfigSpace cs = new ConfigSpace("t", ConfigSpaceSize.EXTENDED);
        cs.setDword(0x40, 0x8765_4321);
        return cs;
    }

    @Test
    void readOnlyBitsIgnoreGuestWrites() {
        ConfigSpace cs = space();
        cs.write(0x40, 4, 0xFFFF_FFFFL);
        cs.write(0x40, 4, 0);
        assertEquals(0x8765_4321L, cs.read(0x40, 4));
    }

    @Test
    void writableBitsTakeTheWrittenValueAndTheOthersStay() {
        ConfigSpace cs = space();
        cs.setWritable(0x40, 4, 0x0000_FF0FL);
        cs.write(0x40, 4, 0xFFFF_FFFFL);
        assertEquals(0x8765_FF2FL, cs.read(0x40, 4));
        cs.write(0x40, 4, 0);
        assertEquals(0x8765_0020L, cs.read(0x40, 4));
    }

    @Test
    void writeOneToClearBitsClearOnOneAndKeepOnZero() {
        ConfigSpace cs = new ConfigSpace("t", ConfigSpaceSize.CONVENTIONAL);
        cs.setClearOnWrite(0x06, 2, 0xF900);
        cs.setWord(0x06, 0xF910); // error bits set by the device plus a read-only bit 4
        cs.write(0x06, 2, 0x0000);
        assertEquals(0xF910, cs.read(0x06, 2), "writing zero leaves RW1C bits alone");
        cs.write(0x06, 2, 0x8100);
        assertEquals(0x7810, cs.read(0x06, 2), "writing one clears exactly those bits");
        cs.write(0x06, 2, 0xFFFF);
        assertEquals(0x0010, cs.read(0x06, 2), "read-only bits survive an all-ones write");
    }

    @Test
    void byteAndWordAccessesReachTheRightBytes() {
        ConfigSpace cs = space();
        assertEquals(0x21, cs.read(0x40, 1));
        assertEquals(0x43, cs.read(0x41, 1));
        assertEquals(0x65, cs.read(0x42, 1));
        assertEquals(0x87, cs.read(0x43, 1));
        assertEquals(0x4321, cs.read(0x40, 2));
        assertEquals(0x6543, cs.read(0x41, 2), "a word inside one dword is a legal configuration access");
        assertEquals(0x8765, cs.read(0x42, 2));
        cs.setWritable(0x40, 4, 0xFFFF_FFFFL);
        cs.write(0x41, 2, 0xBBAA);
        assertEquals(0x87BB_AA21L, cs.read(0x40, 4));
        cs.write(0x43, 1, 0x11);
        assertEquals(0x11BB_AA21L, cs.read(0x40, 4));
    }

    @ParameterizedTest(name = "offset {0} size {1}")
    @CsvSource({"0x43,2", "0x42,4", "0x41,4", "0x43,4", "0x40,3", "0x40,8", "0x40,0", "-1,1", "-4,4",
            "0x1000,1", "0xFFE,4", "0xFFF,2", "0x7FFFFFFF,4"})
    void accessesHardwareCannotCompleteReadAllOnesAndWritesAreDropped(String offset, int size) {
        ConfigSpace cs = space();
        cs.setWritable(0x40, 4, 0xFFFF_FFFFL);
        int off = Integer.decode(offset);
        long expected = size >= 8 || size <= 0 ? -1L : (1L << (8 * size)) - 1;
        assertEquals(expected, cs.read(off, size));
        cs.write(off, size, 0);
        assertEquals(0x8765_4321L, cs.read(0x40, 4));
    }

    @Test
    void aConventionalSpaceEndsAt256() {
        ConfigSpace cs = new ConfigSpace("t", ConfigSpaceSize.CONVENTIONAL);
        assertEquals(0xFFFF_FFFFL, cs.read(0x100, 4));
        assertEquals(0, cs.read(0xFC, 4));
    }

    @Test
    void hooksSeeTheWrittenValueAndTheImageBeforeAndAfter() {
        ConfigSpace cs = space();
        cs.setWritable(0x40, 2, 0x00FF);
        List<long[]> calls = new ArrayList<>();
        cs.addWriteHook(0x40, 2, (o, s, v, b, a) -> {
            calls.add(new long[] {o, s, v, b, a});
            return List.of(new ConfigChange.PowerStateChanged((int) a & 3));
        });
        assertEquals(List.of(), cs.guestWrite(0x42, 2, 0x1234), "outside the watched range");
        assertEquals(List.of(new ConfigChange.PowerStateChanged(0)), cs.guestWrite(0x40, 4, 0xAAAA_BBCCL),
                "the hook's changes are returned");
        assertEquals(1, calls.size());
        assertEquals(List.of(0x40L, 4L, 0xAAAA_BBCCL, 0x8765_4321L, 0x8765_43CCL),
                List.of(calls.get(0)[0], calls.get(0)[1], calls.get(0)[2], calls.get(0)[3], calls.get(0)[4]));
    }

    @Test
    void aThrowingHookDoesNotReachTheGuest() {
        ConfigSpace cs = space();
        cs.setWritable(0x40, 1, 0xFF);
        cs.addWriteHook(0x40, 1, (o, s, v, b, a) -> {
            throw new IllegalStateException("boom");
        });
        assertEquals(List.of(), cs.guestWrite(0x40, 1, 0x55));
        assertEquals(0x55, cs.read(0x40, 1));
    }

    @Test
    void nonEmulatedBitsComeFromAndGoToThePassthroughBacking() {
        ConfigSpace cs = space();
        cs.setWritable(0x40, 4, 0xFFFF_FFFFL);
        List<long[]> writes = new ArrayList<>();
        cs.setPassthrough(new ConfigPassthrough() {
            @Override
            public long read(int offset, int size) {
                return offset == 0x40 && size == 4 ? 0xDEAD_BEEFL : 0;
            }

            @Override
            public void write(int offset, int size, long value, long passMask) {
                writes.add(new long[] {offset, size, value, passMask});
            }
        });
        assertEquals(0x8765_4321L, cs.read(0x40, 4), "fully emulated: the backing is not asked");
        cs.setEmulated(0x40, 4, 0xFFFF_0000L);
        assertEquals(0x8765_BEEFL, cs.read(0x40, 4));
        cs.write(0x40, 4, 0x1111_2222L);
        assertEquals(1, writes.size());
        assertEquals(0xFFFFL, writes.get(0)[3], "passMask names the non-emulated bits");
        assertEquals(0x1111_2222L, writes.get(0)[2]);
        cs.setEmulated(0x40, 4, 0xFFFF_FFFFL);
        cs.write(0x40, 4, 0);
        assertEquals(1, writes.size(), "a write to only emulated bits does not reach the hardware");
    }

    @Test
    void aFailingBackingReadsAllOnesInItsBits() {
        ConfigSpace cs = space();
        cs.setEmulated(0x40, 4, 0x0000_00FFL);
        cs.setPassthrough(new ConfigPassthrough() {
            @Override
            public long read(int offset, int size) {
                throw new IllegalStateException("EIO");
            }

            @Override
            public void write(int offset, int size, long value, long passMask) {
                throw new IllegalStateException("EIO");
            }
        });
        assertEquals(0xFFFF_FF21L, cs.read(0x40, 4));
        cs.write(0x40, 4, 0); // must not throw
    }

    /** A backing that counts its reads and records whether the space's lock was held during any access. */
    private static final class Device implements ConfigPassthrough {
        final ConfigSpace cs;
        long value;
        int reads;
        int writes;
        boolean lockHeld;

        Device(ConfigSpace cs, long value) {
            this.cs = cs;
            this.value = value;
        }

        @Override
        public long read(int offset, int size) {
            reads++;
            lockHeld |= Thread.holdsLock(cs);
            return (value >>> (8 * (offset & 3))) & ConfigAccess.allOnes(size);
        }

        @Override
        public void write(int offset, int size, long v, long passMask) {
            writes++;
            lockHeld |= Thread.holdsLock(cs);
        }
    }

    @Test
    void cachedBitsAreReadFromTheDeviceOnceUntilInvalidated() {
        ConfigSpace cs = new ConfigSpace("t", ConfigSpaceSize.CONVENTIONAL);
        cs.setEmulatedRange(0, 4, false);
        Device dev = new Device(cs, 0x11e8_1234L);
        cs.setPassthrough(dev);
        cs.setCachedRange(0, 4);
        assertEquals(0x11e8_1234L, cs.read(0, 4));
        assertEquals(0x1234L, cs.read(0, 2));
        assertEquals(0x11e8L, cs.read(2, 2));
        assertEquals(1, dev.reads, "the vendor and device id come from the device once");
        assertTrue(cs.answersFromMemory(0, 4));
        dev.value = 0x5678_abcdL;
        cs.invalidateCache();
        assertEquals(0x5678_abcdL, cs.read(0, 4));
        assertEquals(2, dev.reads, "after invalidateCache the device is asked again");
        cs.write(0, 2, 0);
        assertEquals(1, dev.writes);
        assertEquals(0x5678_abcdL, cs.read(0, 4));
        assertEquals(3, dev.reads, "a write that reached the device makes the next read ask it");
    }

    @Test
    void uncachedPassedThroughBitsAreReadEveryTime() {
        ConfigSpace cs = new ConfigSpace("t", ConfigSpaceSize.CONVENTIONAL);
        cs.setEmulatedRange(0x40, 4, false);
        cs.setCached(0x40, 4, 0xFF);
        Device dev = new Device(cs, 0xaabb_ccddL);
        cs.setPassthrough(dev);
        cs.read(0x40, 4);
        cs.read(0x40, 4);
        assertEquals(2, dev.reads, "bits outside the cached mask still come from the device");
        assertEquals(0xddL, cs.read(0x40, 1));
        assertEquals(2, dev.reads, "the cached byte alone is answered from memory");
        assertTrue(!cs.answersFromMemory(0x41, 1));
    }

    @Test
    void theLockIsNotHeldWhileTheDeviceIsAccessed() {
        ConfigSpace cs = new ConfigSpace("t", ConfigSpaceSize.CONVENTIONAL);
        cs.setEmulatedRange(0x40, 4, false);
        Device dev = new Device(cs, 1);
        cs.setPassthrough(dev);
        List<String> hooked = new ArrayList<>();
        cs.addWriteHook(0x40, 4, (o, s, v, b, a) -> {
            hooked.add(Thread.holdsLock(cs) ? "locked" : "unlocked");
            return List.of();
        });
        cs.read(0x40, 4);
        cs.write(0x40, 4, 5);
        assertEquals(1, dev.reads);
        assertEquals(1, dev.writes);
        assertTrue(!dev.lockHeld, "the config lock was held across a device access");
        assertEquals(List.of("locked"), hooked, "hooks still run under the lock, ordered with device-side updates");
    }

    @Test
    void rawAccessorsRejectOutOfRangeOffsetsWithTheSpaceName() {
        ConfigSpace cs = new ConfigSpace("dev-x", ConfigSpaceSize.CONVENTIONAL);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> cs.setDword(0xFE, 0));
        assertTrue(e.getMessage().contains("dev-x"));
    }

    @Test
    void copyOfStartsFromTheGivenBytesAllReadOnly() {
        byte[] phys = new byte[256];
        phys[0] = (byte) 0x86;
        phys[1] = (byte) 0x80;
        ConfigSpace cs = ConfigSpace.copyOf("phys", phys);
        cs.write(0, 2, 0);
        assertEquals(0x8086, cs.read(0, 2));
        assertThrows(IllegalArgumentException.class, () -> ConfigSpace.copyOf("bad", new byte[100]));
    }
}
