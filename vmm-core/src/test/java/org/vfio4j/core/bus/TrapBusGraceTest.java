package org.vfio4j.core.bus;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Closing a registration waits for the accesses already inside its handler (issue 15, defect 4): a device's detach
 * closes its fd right after its traps, and a vCPU still in the handler would otherwise use the closed fd.
 */
class TrapBusGraceTest {

    @Test
    void closeReturnsOnlyAfterTheHandlersInFlightLeft() throws Exception {
        TrapBus bus = new TrapBus("mmio");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean closeReturned = new AtomicBoolean();
        AtomicBoolean closedUnderHandler = new AtomicBoolean();
        TrapBus.Registration reg = bus.register(0x1000, 0x100, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                closedUnderHandler.set(closeReturned.get());
                return 7;
            }

            @Override
            public void write(long offset, int size, long value) {
            }
        }, "dev");
        long[] value = new long[1];
        Thread vcpu = new Thread(() -> value[0] = bus.read(0x1010, 4));
        vcpu.start();
        entered.await();
        Thread closer = new Thread(() -> {
            reg.close();
            closeReturned.set(true);
        });
        closer.start();
        // Wait until the closer is either done (the bug) or parked waiting for the handler (the fix).
        while (closer.isAlive() && closer.getState() == Thread.State.RUNNABLE) {
            Thread.onSpinWait();
        }
        assertEquals(0xFFFFFFFFL, bus.read(0x1010, 4), "new accesses no longer reach the handler");
        release.countDown();
        vcpu.join();
        closer.join();
        assertEquals(7, value[0]);
        assertFalse(closedUnderHandler.get(), "close returned while a vCPU was still inside the handler");
        assertTrue(closeReturned.get());
    }

    @Test
    void closeFromInsideTheHandlerDoesNotWaitForItself() {
        TrapBus bus = new TrapBus("pio");
        TrapBus.Registration[] reg = new TrapBus.Registration[1];
        reg[0] = bus.register(0x10, 4, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                reg[0].close(); // e.g. a device that releases itself on a guest write
            }
        }, "self-releasing");
        bus.write(0x10, 1, 1);
        assertEquals(0, bus.registrations().size());
    }
}
