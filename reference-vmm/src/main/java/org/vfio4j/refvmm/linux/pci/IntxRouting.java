package org.vfio4j.refvmm.linux.pci;

/**
 * The fixed INTx routing of the root bus, the same in the DSDT's _PRT and in each function's interrupt line
 * register: slot S, pin P (1 = INTA .. 4 = INTD) raises GSI {@code 16 + ((S + P - 1) mod 8)}, an IO-APIC pin that no
 * ISA interrupt uses, level-triggered. Rotating by slot spreads single-function devices (which all use INTA) over
 * the eight GSIs.
 */
public final class IntxRouting {
    /** The first GSI used for INTx. */
    public static final int FIRST_GSI = 16;
    /** How many GSIs the routing rotates over. */
    public static final int GSI_COUNT = 8;

    private IntxRouting() {
    }

    /** The GSI of pin {@code pin} (1..4) of device slot {@code slot} (0..31) on bus 0. */
    public static int gsi(int slot, int pin) {
        if (slot < 0 || slot > 31 || pin < 1 || pin > 4) {
            throw new IllegalArgumentException("slot 0..31 and pin 1..4, got slot " + slot + " pin " + pin);
        }
        return FIRST_GSI + (slot + pin - 1) % GSI_COUNT;
    }
}
