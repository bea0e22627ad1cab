package org.vfio4j.pci.config;

/**
 * Where the non-emulated bits of a {@link ConfigSpace} live: for a passthrough device, the physical function's
 * configuration space (through VFIO's config region).
 *
 * <p>Called with the config space's lock held, for accesses {@link ConfigAccess#isValidAccess valid} for the space.
 * An implementation that cannot reach the hardware returns all-ones for reads and drops writes; an exception thrown
 * here is caught, logged and treated the same way.
 */
public interface ConfigPassthrough {

    /** Reads {@code size} bytes at {@code offset} from the backing function. */
    long read(int offset, int size);

    /**
     * Forwards a guest write to the backing function. {@code passMask} has a one for every bit of the access that is
     * not emulated; the other bits of {@code value} are what the guest wrote to emulated bits, which the
     * implementation may replace (for example with the hardware's current value) before writing.
     */
    void write(int offset, int size, long value, long passMask);
}
