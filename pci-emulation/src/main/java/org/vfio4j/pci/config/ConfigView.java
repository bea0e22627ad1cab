package org.vfio4j.pci.config;

/**
 * A read-only view of a {@link ConfigSpace}: what the guest reads and how each bit is classed, without a way to write
 * it, install hooks or change its semantics. For reports and checks by code that does not own the function.
 */
public interface ConfigView {

    /** The space's name, used in log messages (e.g. the device's BDF). */
    String name();

    /** The size of the space in bytes: 256 or 4096. */
    int length();

    /**
     * Reads {@code size} bytes at {@code offset} as the guest would ({@link ConfigAccess#read}): emulated bits from
     * the image, the others from the backing function.
     */
    long read(int offset, int size);

    /** The image byte at {@code offset}: the emulated value, bypassing the backing function. */
    int getByte(int offset);

    /** The little-endian image word at {@code offset}. */
    int getWord(int offset);

    /** The little-endian image dword at {@code offset}. */
    int getDword(int offset);

    /** The emulated-bits mask of {@code size} bytes at {@code offset}: ones come from the image. */
    long emulatedMask(int offset, int size);

    /** The guest-writable (RW) mask of {@code size} bytes at {@code offset}. */
    long writableMask(int offset, int size);

    /** The write-one-to-clear (RW1C) mask of {@code size} bytes at {@code offset}. */
    long clearOnWriteMask(int offset, int size);

    /** A copy of the whole image. */
    byte[] snapshot();
}
