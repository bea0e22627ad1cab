package org.vfio4j.pci.bar;

/**
 * Told when a guest's config writes change where a function's BARs decode, so the owner can move its trap handlers
 * or memory slots. Runs on the vCPU thread with the config space lock held: do not block, do not access the same
 * config space from another thread and wait for it. Exceptions are caught and logged.
 *
 * <p>A BAR is {@linkplain PciBars#isDecoding decoding} when its address is assigned and the command register's
 * memory (or I/O) enable is set; for the ROM BAR, additionally its own enable bit. Owners usually react to any event
 * by asking {@link PciBars#isDecoding} and {@link PciBars#address} again.
 */
public interface BarListener {

    /**
     * The guest rewrote BAR {@code index} (or {@link PciBars#ROM} for the expansion ROM) so its address changed. This
     * also fires during sizing (address becomes the size mask) and between the two halves of a 64-bit update;
     * those happen with decode disabled by well-behaved guests.
     */
    default void barMoved(int index, long oldAddress, long newAddress) {
    }

    /** The command register's memory ({@code memory == true}) or I/O decode enable changed to {@code enabled}. */
    default void decodeChanged(boolean memory, boolean enabled) {
    }

    /** The expansion ROM BAR's own enable bit changed. */
    default void romEnableChanged(boolean enabled) {
    }
}
