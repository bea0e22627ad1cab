package org.vfio4j.pci.msix;

import org.vfio4j.core.irq.MsiMessage;

/**
 * Told when the guest changes MSI-X programming, so the owner can install, update or remove interrupt routes.
 * Runs on the vCPU thread after the change took effect, outside the MSI-X lock (but, for control changes, with the
 * config space lock held): do not block. Exceptions are caught and logged.
 *
 * <p>A vector delivers when MSI-X is enabled, the function mask is clear and its entry's mask bit is clear.
 *
 * <p>Table changes are reported only while MSI-X is enabled: a guest programs the table before it enables MSI-X, and
 * those writes stay in the emulated table (the trapped write path does nothing else). When the guest enables MSI-X,
 * {@link #msixControlChanged} is the cue to read every entry ({@link MsixCapability#message},
 * {@link MsixCapability#isVectorMasked}).
 */
public interface MsixListener {

    /** The capability's enable or function-mask bit changed. */
    default void msixControlChanged(boolean enabled, boolean functionMasked) {
    }

    /** The mask bit of table entry {@code vector} changed while MSI-X was enabled. */
    default void msixVectorMasked(int vector, boolean masked) {
    }

    /** The address or data of table entry {@code vector} changed to {@code message} while MSI-X was enabled. */
    default void msixVectorUpdated(int vector, MsiMessage message) {
    }
}
