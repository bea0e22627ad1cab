package org.vfio4j.refvmm.linux.devices;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.vfio4j.core.bus.TrapHandler;

/**
 * A 16550A UART (8 port registers) as Linux's 8250 driver expects it: divisor latch, scratch register, FIFO
 * detection through IIR, loopback for the driver's probe, and an interrupt line raised while an enabled condition
 * (received data, transmitter empty) is pending. Transmission is instant: every byte written to THR goes to the
 * output sink at once and the transmitter is empty again. Received bytes come from {@link #receive(byte[])}.
 *
 * <p>Thread-safe: the vCPU thread accesses the registers, an input thread feeds bytes; the interrupt line callback
 * runs under this object's lock with the new level (the VMM drives an edge-triggered ISA line with it).
 */
public final class Uart16550 implements TrapHandler {
    /** Register offsets. */
    private static final int RBR_THR_DLL = 0;
    private static final int IER_DLM = 1;
    private static final int IIR_FCR = 2;
    private static final int LCR = 3;
    private static final int MCR = 4;
    private static final int LSR = 5;
    private static final int MSR = 6;
    private static final int SCR = 7;

    private static final int IER_RDI = 0x01;
    private static final int IER_THRI = 0x02;
    private static final int IIR_NO_INT = 0x01;
    private static final int IIR_THRI = 0x02;
    private static final int IIR_RDI = 0x04;
    private static final int IIR_FIFO_ENABLED = 0xc0;
    private static final int LSR_DR = 0x01;
    private static final int LSR_THRE = 0x20;
    private static final int LSR_TEMT = 0x40;
    private static final int LCR_DLAB = 0x80;
    private static final int MCR_LOOP = 0x10;
    private static final int FCR_ENABLE = 0x01;
    private static final int FCR_CLEAR_RX = 0x02;
    private static final int RX_LIMIT = 4096;

    private final Consumer<Byte> output;
    private final Consumer<Boolean> irqLine;
    private final ArrayDeque<Byte> rx = new ArrayDeque<>();
    private int ier;
    private int lcr;
    private int mcr;
    private int scr;
    private int fcr;
    private int divisor = 12;
    private boolean thrInterrupt;
    private boolean irqLevel;

    /**
     * @param output receives each transmitted byte (called on the vCPU thread; keep it short)
     * @param irqLine drives the UART's interrupt line (true = asserted)
     */
    public Uart16550(Consumer<Byte> output, Consumer<Boolean> irqLine) {
        this.output = output;
        this.irqLine = irqLine;
    }

    /** Queues bytes for the guest to receive (at most 4 KiB waiting; the rest is dropped as an overrun would). */
    public synchronized void receive(byte[] bytes) {
        for (byte b : bytes) {
            if (rx.size() < RX_LIMIT) {
                rx.add(b);
            }
        }
        updateIrq();
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (size != 1) {
            return TrapHandler.allOnes(size);
        }
        int v = switch ((int) offset) {
            case RBR_THR_DLL -> {
                if ((lcr & LCR_DLAB) != 0) {
                    yield divisor & 0xff;
                }
                Byte b = rx.poll();
                updateIrq();
                yield b == null ? 0 : b & 0xff;
            }
            case IER_DLM -> (lcr & LCR_DLAB) != 0 ? (divisor >>> 8) & 0xff : ier;
            case IIR_FCR -> {
                int iir = pendingInterrupt();
                if (iir == IIR_THRI) {
                    thrInterrupt = false; // reading IIR while it reports THRE clears that cause
                    updateIrq();
                }
                yield iir | ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO_ENABLED : 0);
            }
            case LCR -> lcr;
            case MCR -> mcr;
            case LSR -> LSR_THRE | LSR_TEMT | (rx.isEmpty() ? 0 : LSR_DR);
            case MSR -> modemStatus();
            case SCR -> scr;
            default -> 0xff;
        };
        return v;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (size != 1) {
            return;
        }
        int v = (int) value & 0xff;
        switch ((int) offset) {
            case RBR_THR_DLL -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff00) | v;
                } else if ((mcr & MCR_LOOP) != 0) {
                    if (rx.size() < RX_LIMIT) {
                        rx.add((byte) v); // loopback: what is sent is received
                    }
                    thrInterrupt = true;
                } else {
                    output.accept((byte) v);
                    thrInterrupt = true; // sent at once: the holding register is empty again
                }
            }
            case IER_DLM -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0xff) | (v << 8);
                } else {
                    boolean thriTurnedOn = (v & IER_THRI) != 0 && (ier & IER_THRI) == 0;
                    ier = v & 0x0f;
                    if (thriTurnedOn) {
                        thrInterrupt = true; // the transmitter is always empty: enabling THRI raises it
                    }
                }
            }
            case IIR_FCR -> {
                fcr = v & 0xc9;
                if ((v & FCR_CLEAR_RX) != 0) {
                    rx.clear();
                }
            }
            case LCR -> lcr = v;
            case MCR -> mcr = v & 0x1f;
            case SCR -> scr = v;
            default -> {
                // LSR and MSR are read-only
            }
        }
        updateIrq();
    }

    private int pendingInterrupt() {
        if ((ier & IER_RDI) != 0 && !rx.isEmpty()) {
            return IIR_RDI;
        }
        if ((ier & IER_THRI) != 0 && thrInterrupt) {
            return IIR_THRI;
        }
        return IIR_NO_INT;
    }

    /** In loopback the modem inputs follow the outputs (CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2); else DCD|DSR|CTS. */
    private int modemStatus() {
        if ((mcr & MCR_LOOP) != 0) {
            return ((mcr & 0x02) != 0 ? 0x10 : 0) | ((mcr & 0x01) != 0 ? 0x20 : 0)
                    | ((mcr & 0x04) != 0 ? 0x40 : 0) | ((mcr & 0x08) != 0 ? 0x80 : 0);
        }
        return 0xb0;
    }

    private void updateIrq() {
        boolean level = pendingInterrupt() != IIR_NO_INT;
        if (level != irqLevel) {
            irqLevel = level;
            irqLine.accept(level);
        }
    }
}
