package org.vfio4j.refvmm.linux.devices;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The register sequences Linux's 8250 driver runs at probe and while it transmits and receives. */
class Uart16550Test {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final List<Boolean> irq = new ArrayList<>();
    private final Uart16550 uart = new Uart16550(out::write, irq::add);

    private int in(int reg) {
        return (int) uart.read(reg, 1);
    }

    private void out(int reg, int value) {
        uart.write(reg, 1, value);
    }

    @Test
    void passesTheDriversProbe() {
        // Scratch and IER read back what was written.
        out(7, 0xa5);
        assertEquals(0xa5, in(7));
        out(1, 0);
        assertEquals(0, in(1) & 0x0f);
        out(1, 0x0f);
        assertEquals(0x0f, in(1) & 0x0f);
        out(1, 0);
        // Loopback with RTS|OUT2: the modem status shows CTS|DCD (0x90), the check autoconfig makes.
        out(4, 0x10 | 0x0a);
        assertEquals(0x90, in(6) & 0xf0);
        out(4, 0);
        // FIFO enabled: IIR's top bits say 16550A.
        out(2, 0x01);
        assertEquals(3, in(2) >> 6);
        // Divisor latch round trip.
        out(3, 0x80);
        out(0, 0x01);
        out(1, 0x00);
        assertEquals(1, in(0));
        out(3, 0x03);
        assertEquals(0x60, in(5) & 0x60, "transmitter empty");
    }

    @Test
    void transmitsAtOnceAndRaisesThreWhenEnabled() {
        out(0, 'h');
        out(0, 'i');
        assertEquals("hi", out.toString());
        assertTrue(irq.isEmpty(), "no interrupt while IER is 0");
        out(1, 0x02);
        assertEquals(List.of(true), irq, "enabling THRI with an empty transmitter raises the line");
        assertEquals(0x02, in(2) & 0x0f, "IIR names THRE");
        assertEquals(List.of(true, false), irq, "reading IIR cleared it");
        assertEquals(0x01, in(2) & 0x0f, "nothing pending");
        out(0, '!');
        assertEquals(List.of(true, false, true), irq, "the next byte sent raises it again");
    }

    @Test
    void receivesWithDataReadyAndAnInterrupt() {
        out(1, 0x01);
        uart.receive("ok".getBytes());
        assertTrue(irq.get(irq.size() - 1));
        assertEquals(0x04, in(2) & 0x0f);
        assertEquals(1, in(5) & 1);
        assertEquals('o', in(0));
        assertEquals('k', in(0));
        assertEquals(0, in(5) & 1);
        assertFalse(irq.get(irq.size() - 1), "line dropped when the data is read");
    }

    @Test
    void wideAccessesGetAllOnesAndAreDropped() {
        assertEquals(0xffff, uart.read(0, 2));
        uart.write(0, 4, 0x41414141L);
        assertEquals(0, out.size());
    }
}
