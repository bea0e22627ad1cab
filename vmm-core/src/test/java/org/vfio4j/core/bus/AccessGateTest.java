package org.vfio4j.core.bus;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The gate a device's emulation counts guest accesses with, so its release waits for a vCPU that found it on a
 * lock-free table just before it left (the race ConcurrentGuestTest caught: a trapped BAR read on a closed fd).
 */
class AccessGateTest {

    @Test
    void closeWaitsForTheAccessInsideAndTurnsNewOnesAway() throws Exception {
        AccessGate gate = new AccessGate();
        assertTrue(gate.enter());
        AtomicBoolean closed = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(1);
        Thread releaser = new Thread(() -> {
            started.countDown();
            closed.set(gate.close());
        });
        releaser.start();
        started.await();
        while (!gate.isClosed()) {
            Thread.onSpinWait();
        }
        assertFalse(gate.enter(), "an access after close is turned away");
        assertEquals(1, gate.inside());
        assertTrue(releaser.isAlive(), "close returned with an access still inside");
        gate.exit();
        releaser.join();
        assertTrue(closed.get(), "close reports that nothing is inside");
        assertEquals(0, gate.inside());
    }

    @Test
    void closeInsideAGuestAccessDoesNotWaitForItself() {
        AccessGate gate = new AccessGate();
        TrapBus bus = new TrapBus("pio");
        boolean[] result = new boolean[1];
        bus.register(0x10, 4, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                assertTrue(gate.enter());
                try {
                    result[0] = gate.close(); // a guest write that releases the device it is inside
                } finally {
                    gate.exit();
                }
            }
        }, "self-releasing");
        long start = System.nanoTime();
        bus.write(0x10, 1, 1);
        assertFalse(result[0], "close says it could not wait");
        assertTrue(System.nanoTime() - start < AccessGate.CLOSE_LIMIT_NANOS, "close did not wait out its limit");
        assertTrue(gate.isClosed());
    }
}
