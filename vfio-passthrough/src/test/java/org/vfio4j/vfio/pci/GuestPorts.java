package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;

/** Ports 0xf0-0xff of a test guest: each {@code out} lands in a queue the test waits on. */
final class GuestPorts implements TrapHandler {
    static final int BASE = 0xf0;
    private final BlockingQueue<long[]> reports = new LinkedBlockingQueue<>();

    static GuestPorts on(TrapBus pio) {
        GuestPorts p = new GuestPorts();
        pio.register(BASE, 16, p, "test report ports");
        return p;
    }

    @Override
    public long read(long offset, int size) {
        return TrapHandler.allOnes(size);
    }

    @Override
    public void write(long offset, int size, long value) {
        reports.add(new long[] {BASE + offset, value});
    }

    /** The next value the guest wrote to {@code port} (earlier reports to other ports are skipped). */
    long await(int port) throws InterruptedException {
        while (true) {
            long[] r = reports.poll(20, TimeUnit.SECONDS);
            assertNotNull(r, "guest sent nothing to port 0x" + Integer.toHexString(port));
            if (r[0] == port) {
                return r[1];
            }
        }
    }
}
