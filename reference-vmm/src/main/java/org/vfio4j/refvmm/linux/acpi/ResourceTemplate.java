package org.vfio4j.refvmm.linux.acpi;

import java.io.ByteArrayOutputStream;

/**
 * Builds a {@code ResourceTemplate()}: the resource descriptors of a _CRS, ended by an EndTag whose checksum makes
 * the bytes of the whole template sum to zero, wrapped in an AML Buffer by {@link #toAml()}.
 *
 * <p>Address space descriptors are always MinFixed, MaxFixed, PosDecode with granularity and translation 0 and
 * length {@code max - min + 1}, as firmware writes host bridge windows. Descriptor layouts: ACPI specification,
 * section 6.4 (Resource Data Types for ACPI).
 */
public final class ResourceTemplate {
    static final int SMALL_IO = 0x47;
    static final int SMALL_IRQ_NO_FLAGS = 0x22;
    static final int SMALL_END_TAG = 0x79;
    static final int LARGE_DWORD_ADDRESS = 0x87;
    static final int LARGE_WORD_ADDRESS = 0x88;
    static final int LARGE_EXTENDED_IRQ = 0x89;
    static final int LARGE_QWORD_ADDRESS = 0x8A;

    static final int SPACE_MEMORY = 0;
    static final int SPACE_IO = 1;
    static final int SPACE_BUS = 2;

    /** General flags: MinFixed (bit 2) and MaxFixed (bit 3), positive decode, producer unless bit 0. */
    private static final int FIXED_WINDOW = 0x0C;
    private static final int CONSUMER = 0x01;
    /** I/O type-specific flags: EntireRange (ISA and non-ISA ports). */
    private static final int IO_ENTIRE_RANGE = 0x03;
    /** Memory type-specific flags: ReadWrite. */
    private static final int MEM_READ_WRITE = 0x01;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** {@code WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, max - min + 1)}. */
    public ResourceTemplate wordBusNumber(int min, int max) {
        checkRange(min, max, 0xFFFF);
        return address(LARGE_WORD_ADDRESS, 2, SPACE_BUS, FIXED_WINDOW, 0, min, max);
    }

    /** {@code IO(Decode16, min, max, alignment, length)}: a fixed I/O range the device consumes. */
    public ResourceTemplate io(int min, int max, int alignment, int length) {
        checkRange(min, max, 0xFFFF);
        if (alignment < 0 || alignment > 0xFF || length < 0 || length > 0xFF) {
            throw new IllegalArgumentException("IO alignment and length are bytes");
        }
        out.write(SMALL_IO);
        out.write(0x01); // Decode16
        le(min, 2);
        le(max, 2);
        out.write(alignment);
        out.write(length);
        return this;
    }

    /** {@code WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, len)}. */
    public ResourceTemplate wordIo(int min, int max) {
        checkRange(min, max, 0xFFFF);
        return address(LARGE_WORD_ADDRESS, 2, SPACE_IO, FIXED_WINDOW, IO_ENTIRE_RANGE, min, max);
    }

    /** {@code DWordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, len)}. */
    public ResourceTemplate dwordIo(long min, long max) {
        checkRange(min, max, 0xFFFF_FFFFL);
        return address(LARGE_DWORD_ADDRESS, 4, SPACE_IO, FIXED_WINDOW, IO_ENTIRE_RANGE, min, max);
    }

    /**
     * {@code DWordMemory(ResourceProducer or ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable,
     * ReadWrite, 0, min, max, 0, len)}. Windows are non-cacheable (not prefetchable) so that Linux may claim both
     * prefetchable and non-prefetchable BARs inside them.
     */
    public ResourceTemplate dwordMemory(long min, long max, boolean consumer) {
        checkRange(min, max, 0xFFFF_FFFFL);
        return address(LARGE_DWORD_ADDRESS, 4, SPACE_MEMORY, FIXED_WINDOW | (consumer ? CONSUMER : 0),
                MEM_READ_WRITE, min, max);
    }

    /** {@code QWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, ...)}. */
    public ResourceTemplate qwordMemory(long min, long max) {
        checkRange(min, max, Long.MAX_VALUE);
        return address(LARGE_QWORD_ADDRESS, 8, SPACE_MEMORY, FIXED_WINDOW, MEM_READ_WRITE, min, max);
    }

    /** {@code Memory32Fixed(ReadWrite or ReadOnly, base, length)}: a device's own 32-bit memory range. */
    public ResourceTemplate memory32Fixed(long base, long length, boolean writable) {
        checkRange(base, base + length - 1, 0xFFFF_FFFFL);
        out.write(0x86);
        le(9, 2);
        out.write(writable ? 1 : 0);
        le(base, 4);
        le(length, 4);
        return this;
    }

    /** {@code IRQNoFlags() {irq}}: one ISA IRQ, edge-triggered, active high. */
    public ResourceTemplate irqNoFlags(int irq) {
        if (irq < 0 || irq > 15) {
            throw new IllegalArgumentException("ISA IRQ 0..15: " + irq);
        }
        out.write(SMALL_IRQ_NO_FLAGS);
        le(1 << irq, 2);
        return this;
    }

    /**
     * {@code Interrupt(ResourceConsumer, trigger, polarity, Exclusive) {gsi}}: one extended interrupt (a GSI).
     *
     * @param level      level-triggered (else edge)
     * @param activeLow  active-low (else active-high)
     */
    public ResourceTemplate interrupt(long gsi, boolean level, boolean activeLow) {
        checkRange(gsi, gsi, 0xFFFF_FFFFL);
        out.write(LARGE_EXTENDED_IRQ);
        le(6, 2);
        out.write(CONSUMER | (level ? 0 : 0x02) | (activeLow ? 0x04 : 0));
        out.write(1);
        le(gsi, 4);
        return this;
    }

    /** The descriptors followed by an EndTag with its checksum, without the Buffer wrapper. */
    public byte[] toBytes() {
        byte[] body = out.toByteArray();
        byte[] all = new byte[body.length + 2];
        System.arraycopy(body, 0, all, 0, body.length);
        all[body.length] = (byte) SMALL_END_TAG;
        all[body.length + 1] = AcpiTable.checksum(all, 0, body.length + 1);
        return all;
    }

    /** The template as an AML Buffer, the value of a {@code Name(_CRS, ...)}. */
    public byte[] toAml() {
        return Aml.buffer(toBytes());
    }

    private ResourceTemplate address(int tag, int width, int space, int flags, int typeFlags, long min, long max) {
        out.write(tag);
        le(3 + 5 * width, 2);
        out.write(space);
        out.write(flags);
        out.write(typeFlags);
        le(0, width); // granularity
        le(min, width);
        le(max, width);
        le(0, width); // translation offset
        le(max - min + 1, width);
        return this;
    }

    private static void checkRange(long min, long max, long limit) {
        if (min < 0 || max < min || max > limit) {
            throw new IllegalArgumentException("bad range 0x" + Long.toHexString(min) + "-0x" + Long.toHexString(max));
        }
    }

    private void le(long v, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out.write((int) (v >>> (8 * i)));
        }
    }
}
