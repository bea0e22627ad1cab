package org.vfio4j.pci.msi;

/**
 * Told when the guest reprograms MSI, so the owner can set up or tear down interrupt routes. Runs on the vCPU
 * thread with the config space lock held: do not block. Exceptions are caught and logged.
 */
public interface MsiListener {

    /** Enable, address, data or the enabled vector count changed; {@code state} is the new programming. */
    default void msiConfigured(MsiState state) {
    }

    /** The per-vector mask bit of {@code vector} changed. */
    default void msiVectorMasked(int vector, boolean masked) {
    }
}
