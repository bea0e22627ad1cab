package org.vfio4j.pci.config;

/**
 * Told after a guest write landed in a watched range of a {@link ConfigSpace}, so device logic can react (remap a
 * BAR, enable MSI, ...).
 *
 * <p>Runs on the vCPU thread with the config space's lock held, after the emulated image was updated. It must not
 * block; a runtime exception it throws is caught and logged, never propagated to the guest access.
 */
@FunctionalInterface
public interface ConfigWriteHook {

    /**
     * The guest wrote {@code value} ({@code size} bytes) at {@code offset}; {@code before} and {@code after} are the
     * emulated image of exactly those bytes before and after the write, with the register semantics applied. The
     * raw {@code value} matters for command bits that read back zero (e.g. PCIe function level reset).
     */
    void written(int offset, int size, long value, long before, long after);
}
