package org.vfio4j.pci.msix;

import org.vfio4j.core.irq.MsiMessage;

/**
 * Told when the guest changes MSI-X programming, so the owner can install, update or remove interrupt routes.
 * Runs on the vCPU thread after the change took effect, outside the MSI-X lock (but, for control changes, with the
 * config space lock held): do not block. Exceptions are caught and logged.
 *
 * <p>A vector delivers when MSI-X is enabled, the function mask is clear and its entry's mask bit is clear.
 */
public interface MsixListener {

    /** The capability's enable or function-mask bit changed. */
    default void msixControlChanged(boolean enabled, boolean functionMasked) {
    }

    /** The mask bit of table entry {@code vector} changed. */
    default void msixVectorMasked(int vector, boolean masked) {
    }

    /** The address or data of table entry {@code vector} changed to {@code message}. */
    default void msixVectorUpdated(int vector, MsiMessage message) {
    }
}
