package org.vfio4j.pci.config;

import org.vfio4j.pci.msi.MsiState;

/**
 * Something a guest write changed that the function's owner must act on outside the emulation: a BAR to put
 * somewhere else, a decode enable, an interrupt to set up or route again, a reset to run.
 *
 * <p>{@link ConfigSpace#guestWrite} and {@link org.vfio4j.pci.msix.MsixCapability#writeTable} return them instead of
 * calling the owner back, so the emulation state is consistent and its locks are released before the owner maps
 * memory, issues ioctls or waits for another thread. The owner applies them in the order given. Each names what
 * changed; an owner that may see two writers' changes out of order reads the current state again when it applies
 * one (the capability or {@link org.vfio4j.pci.bar.PciBars} answer it), so the last change applied wins with the
 * latest value.
 */
public sealed interface ConfigChange {

    /**
     * BAR {@code index} (or {@link org.vfio4j.pci.bar.PciBars#ROM}) holds a new address. Also reported during sizing
     * (the address becomes the size mask) and between the two halves of a 64-bit update; well-behaved guests do
     * those with decode off.
     */
    record BarMoved(int index, long oldAddress, long newAddress) implements ConfigChange {
    }

    /** The command register's memory ({@code memory == true}) or I/O decode enable changed to {@code enabled}. */
    record DecodeChanged(boolean memory, boolean enabled) implements ConfigChange {
    }

    /** The expansion ROM BAR's own enable bit changed. */
    record RomEnableChanged(boolean enabled) implements ConfigChange {
    }

    /** The power management capability's state field changed to {@code state} (0 = D0 .. 3 = D3hot). */
    record PowerStateChanged(int state) implements ConfigChange {
    }

    /** The guest asked for a function level reset (the bit itself reads back zero). */
    record FunctionResetRequested() implements ConfigChange {
    }

    /** MSI enable, address, data or the enabled vector count changed; {@code state} is the programming after it. */
    record MsiChanged(MsiState state) implements ConfigChange {
    }

    /** The per-vector mask bit of MSI vector {@code vector} changed. */
    record MsiVectorMaskChanged(int vector, boolean masked) implements ConfigChange {
    }

    /** The MSI-X enable or function-mask bit changed. */
    record MsixControlChanged(boolean enabled, boolean functionMasked) implements ConfigChange {
    }

    /**
     * The address, data or mask of MSI-X table entry {@code vector} changed while MSI-X was enabled (writes while it
     * is disabled stay in the table; {@link MsixControlChanged} is the cue to read every entry).
     */
    record MsixVectorChanged(int vector) implements ConfigChange {
    }
}
