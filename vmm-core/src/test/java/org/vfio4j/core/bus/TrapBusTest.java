package org.vfio4j.core.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrapBusTest {

    /** Records accesses and answers reads with base-relative offsets, so routing mistakes show. */
    private static final class Recorder implements TrapHandler {
        final List<String> log = new ArrayList<>();
        final long tag;

        Recorder(long tag) {
            this.tag = tag;
        }

        @Override
        public long read(long offset, int size) {
            log.add("r" + offset + "/" + size);
            return tag + offset;
        }

        @Override
        public void write(long offset, int size, long value) {
            log.add("w" + offset + "/" + size + "=" + value);
        }
    }

    @Test
    void dispatchesByRangeWithRelativeOffsets() {
        TrapBus bus = new TrapBus("mmio");
        Recorder a = new Recorder(0x1000);
        Recorder b = new Recorder(0x2000);
        bus.register(0xfe000000L, 0x1000, a, "dev a");
        bus.register(0xfe001000L, 0x100, b, "dev b");
        assertEquals(0x1010, bus.read(0xfe000010L, 4));
        bus.write(0xfe001004L, 2, 7);
        assertEquals(List.of("r16/4"), a.log);
        assertEquals(List.of("w4/2=7"), b.log);
    }

    @Test
    void unclaimedAccessesGetAllOnesAndAreCounted() {
        TrapBus bus = new TrapBus("pio");
        Recorder a = new Recorder(0);
        bus.register(0xcf8, 4, a, "host bridge");
        assertEquals(0xffL, bus.read(0x80, 1));
        assertEquals(0xffffffffL, bus.read(0xcfa, 4), "straddles the end of the range");
        assertEquals(-1L, bus.read(0x1000, 8));
        bus.write(0x81, 1, 1);
        assertEquals(4, bus.unclaimedAccesses());
        assertTrue(a.log.isEmpty());
    }

    @Test
    void overlappingRegistrationNamesBothOwners() {
        TrapBus bus = new TrapBus("mmio");
        bus.register(0x1000, 0x1000, new Recorder(0), "BAR0 of 00:03.0");
        TrapOverlapException e = assertThrows(TrapOverlapException.class,
                () -> bus.register(0x1fff, 2, new Recorder(0), "BAR2 of 00:04.0"));
        assertTrue(e.getMessage().contains("BAR0 of 00:03.0") && e.getMessage().contains("BAR2 of 00:04.0"),
                e.getMessage());
    }

    @Test
    void replaceMoveAndCloseTakeEffectAtomically() {
        TrapBus bus = new TrapBus("mmio");
        Recorder first = new Recorder(0x100);
        Recorder second = new Recorder(0x200);
        TrapBus.Registration reg = bus.register(0x4000, 0x100, first, "bar");
        bus.register(0x8000, 0x100, new Recorder(0), "other");
        reg.replace(second);
        assertEquals(0x201, bus.read(0x4001, 1));
        reg.move(0x6000);
        assertEquals(0xff, bus.read(0x4001, 1), "old place no longer claimed");
        assertEquals(0x202, bus.read(0x6002, 1));
        assertThrows(TrapOverlapException.class, () -> reg.move(0x8080));
        assertEquals(0x6000, reg.base(), "a refused move leaves the range where it was");
        reg.close();
        reg.close();
        assertEquals(0xff, bus.read(0x6002, 1));
        assertEquals(1, bus.registrations().size());
        assertThrows(IllegalStateException.class, () -> reg.move(0x5000));
    }

    @Test
    void concurrentReadersNeverMissAMovingRange() throws Exception {
        TrapBus bus = new TrapBus("mmio");
        TrapBus.Registration reg = bus.register(0x10000, 0x1000, new Recorder(0), "moving");
        for (int i = 0; i < 64; i++) {
            bus.register(0x100000 + i * 0x2000L, 0x1000, new Recorder(0), "static " + i);
        }
        long[] misses = new long[1];
        Thread reader = new Thread(() -> {
            for (int i = 0; i < 200_000; i++) {
                // Every static range must answer, whatever the mover is doing.
                long addr = 0x100000 + (i % 64) * 0x2000L + 8;
                if (bus.read(addr, 4) != 8) {
                    misses[0]++;
                }
            }
        });
        reader.start();
        for (int i = 0; i < 20_000; i++) {
            reg.move((i & 1) == 0 ? 0x20000 : 0x10000);
        }
        reader.join();
        assertEquals(0, misses[0]);
    }
}
