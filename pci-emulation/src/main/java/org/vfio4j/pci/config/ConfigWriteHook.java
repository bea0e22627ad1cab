package org.vfio4j.pci.config;

import java.util.List;

/**
 * Device logic run after a guest write landed in a watched range of a {@link ConfigSpace}: it keeps the image
 * consistent (e.g. refuses an unsupported power state) and says what changed for the owner to act on.
 *
 * <p>Runs on the vCPU thread with the config space's lock held, after the emulated image was updated. It reads and
 * writes the image and returns what changed; the only call out it may make is the one the spec puts in the write
 * itself (an MSI or MSI-X capability sends the message of a pending vector the write unmasked, to a sink that must
 * not block). A runtime exception it throws is caught and logged, never propagated to the guest access.
 */
@FunctionalInterface
public interface ConfigWriteHook {

    /**
     * The guest wrote {@code value} ({@code size} bytes) at {@code offset}; {@code before} and {@code after} are the
     * emulated image of exactly those bytes before and after the write, with the register semantics applied. The
     * raw {@code value} matters for command bits that read back zero (e.g. PCIe function level reset).
     *
     * @return what changed for the owner, in order; {@link List#of()} when nothing did
     */
    List<ConfigChange> written(int offset, int size, long value, long before, long after);
}
