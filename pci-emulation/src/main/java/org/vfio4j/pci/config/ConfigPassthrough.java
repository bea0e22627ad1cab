package org.vfio4j.pci.config;

/**
 * Where the non-emulated bits of a {@link ConfigSpace} live: for a passthrough device, the physical function's
 * configuration space (through VFIO's config region).
 *
 * <p>Called without the config space's lock (a device access may be a syscall; the device side of the emulation
 * must not wait for it), for accesses {@link ConfigAccess#isValidAccess valid} for the space; guest writes reach it
 * one at a time, in order.
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
