package org.vfio4j.refvmm.linux.devices;

import java.util.concurrent.CompletableFuture;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.refvmm.linux.acpi.Dsdt;
import org.vfio4j.refvmm.linux.acpi.Fadt;

/**
 * The ports through which a guest ends the VM: the ACPI hardware-reduced sleep control register (S5 = power off),
 * its sleep status register, the ACPI reset register, and an exit port that carries the guest's status (as QEMU's
 * isa-debug-exit does; an init script writes it through {@code /dev/port}). The first of these completes
 * {@link #ended()}; later writes change nothing.
 */
public final class PowerPorts {
    /** FADT SLEEP_CONTROL_REG: Linux writes SLP_TYP &lt;&lt; 2 | SLP_EN. */
    public static final int SLEEP_CONTROL_PORT = Fadt.SLEEP_CONTROL_PORT;
    /** FADT SLEEP_STATUS_REG: reads 0 (no wake event). */
    public static final int SLEEP_STATUS_PORT = Fadt.SLEEP_STATUS_PORT;
    /** FADT RESET_REG. */
    public static final int RESET_PORT = Fadt.RESET_PORT;
    /** FADT RESET_VALUE. */
    public static final int RESET_VALUE = Fadt.RESET_VALUE;
    /** The sleep type the DSDT's \_S5 names. */
    public static final int S5_SLEEP_TYPE = Dsdt.S5_SLP_TYP;
    /** A byte written here ends the VM with that status. */
    public static final int EXIT_PORT = 0x501;

    private static final int SLP_EN = Fadt.SLP_EN;

    /** Why the guest ended the VM. */
    public enum Cause {
        /** ACPI S5. */
        POWER_OFF,
        /** The ACPI reset register (a reboot; this VMM does not restart the guest). */
        RESET,
        /** The exit port, with a status. */
        EXIT_PORT
    }

    /**
     * How the guest ended the VM.
     *
     * @param cause which port
     * @param status the exit port's byte, 0 otherwise
     */
    public record Ending(Cause cause, int status) {
    }

    private final CompletableFuture<Ending> ended = new CompletableFuture<>();

    /** Completes when the guest powers off, resets or writes the exit port. */
    public CompletableFuture<Ending> ended() {
        return ended;
    }

    /** The sleep control and status registers and the reset register, three 1-byte ports from 0x600. */
    public TrapHandler acpiRegisters() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return offset < 3 && size == 1 ? 0 : TrapHandler.allOnes(size);
            }

            @Override
            public void write(long offset, int size, long value) {
                int port = SLEEP_CONTROL_PORT + (int) offset;
                int v = (int) value & 0xff;
                if (port == SLEEP_CONTROL_PORT && (v & SLP_EN) != 0 && ((v >>> 2) & 7) == S5_SLEEP_TYPE) {
                    ended.complete(new Ending(Cause.POWER_OFF, 0));
                } else if (port == RESET_PORT && v == RESET_VALUE) {
                    ended.complete(new Ending(Cause.RESET, 0));
                }
            }
        };
    }

    /** The exit port's handler (one byte). */
    public TrapHandler exitPort() {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return TrapHandler.allOnes(size);
            }

            @Override
            public void write(long offset, int size, long value) {
                ended.complete(new Ending(Cause.EXIT_PORT, (int) value & 0xff));
            }
        };
    }
}
