package org.vfio4j.refvmm.linux.boot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Linux x86 kernel image (bzImage) whose setup header was checked for what a 64-bit direct boot needs: the
 * "HdrS" magic, boot protocol 2.12 or newer, a 64-bit entry point ({@code XLF_KERNEL_64}) and a kernel loaded high.
 * The header's offsets are the same in the file and in {@code struct boot_params}, so the field getters read the
 * header at its {@code boot_params} offsets ({@link BootParams}).
 */
public final class BzImage {
    /** The oldest boot protocol accepted: 2.12 ({@code XLF_KERNEL_64}, 64-bit {@code pref_address}, init_size). */
    public static final int MIN_PROTOCOL = 0x020C;
    /** {@code LOADED_HIGH}: the protected-mode kernel runs at 1 MiB or above. */
    public static final int LOADED_HIGH = 1;
    /** {@code XLF_KERNEL_64}: the kernel has the 64-bit entry point at load address + 0x200. */
    public static final int XLF_KERNEL_64 = 1;
    /** Where a kernel that is not relocatable (or prefers a lower address) is loaded. */
    public static final long DEFAULT_LOAD_ADDRESS = 0x10_0000;

    static final int BOOT_FLAG_MAGIC = 0xAA55;
    static final int HDRS_MAGIC = 0x5372_6448; // "HdrS" little-endian
    /** The jump instruction at 0x200 is {@code jmp short}: its displacement byte at 0x201 ends the header. */
    static final int JUMP_DISPLACEMENT = 0x201;
    static final int SECTOR = 512;

    private final String name;
    private final byte[] image;
    private final ByteBuffer header;
    private final int setupSects;
    private final int headerEnd;

    private BzImage(String name, byte[] image, ByteBuffer header, int setupSects, int headerEnd) {
        this.name = name;
        this.image = image;
        this.header = header;
        this.setupSects = setupSects;
        this.headerEnd = headerEnd;
    }

    /**
     * Reads and checks the bzImage at {@code file}.
     *
     * @throws LinuxBootException when the file is missing, unreadable or not a usable bzImage
     */
    public static BzImage read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new LinuxBootException("kernel image " + file + ": no such file", e);
        } catch (IOException e) {
            throw new LinuxBootException("kernel image " + file + ": cannot read it: " + e, e);
        }
        return parse(file.toString(), bytes);
    }

    /**
     * Checks {@code image} (the whole bzImage file) and keeps a copy.
     *
     * @param name how errors name the image (usually its path)
     * @throws LinuxBootException naming {@code name} and what is wrong
     */
    public static BzImage parse(String name, byte[] image) {
        int minimum = BootParams.HDR_KERNEL_INFO_OFFSET + 4;
        if (image.length < minimum) {
            throw bad(name, "truncated: " + image.length + " bytes, too short for a setup header (needs "
                    + minimum + ")");
        }
        ByteBuffer b = ByteBuffer.wrap(image.clone()).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(BootParams.HDR_HEADER) != HDRS_MAGIC) {
            throw bad(name, "not a bzImage (no HdrS magic at 0x202)");
        }
        int bootFlag = Short.toUnsignedInt(b.getShort(BootParams.HDR_BOOT_FLAG));
        if (bootFlag != BOOT_FLAG_MAGIC) {
            throw bad(name, String.format("not a bzImage (boot flag 0x%04x at 0x1fe, expected 0xaa55)", bootFlag));
        }
        int version = Short.toUnsignedInt(b.getShort(BootParams.HDR_VERSION));
        if (version < MIN_PROTOCOL) {
            throw bad(name, "boot protocol " + versionString(version) + " is too old (need "
                    + versionString(MIN_PROTOCOL) + ")");
        }
        int sects = Byte.toUnsignedInt(b.get(BootParams.HDR_SETUP_SECTS));
        if (sects == 0) {
            sects = 4; // the protocol's rule for images that predate the field
        }
        int setupBytes = (sects + 1) * SECTOR;
        int headerEnd = BootParams.HDR_JUMP + 2 + Byte.toUnsignedInt(b.get(JUMP_DISPLACEMENT));
        int shortest = BootParams.HDR_HANDOVER_OFFSET + 4; // a 2.12 header ends with handover_offset
        if (headerEnd < shortest || headerEnd > BootParams.HDR_LIMIT) {
            throw bad(name, String.format("setup header ends at 0x%x, outside [0x%x, 0x%x] (corrupt jump at 0x200)",
                    headerEnd, shortest, BootParams.HDR_LIMIT));
        }
        long sysBytes = Integer.toUnsignedLong(b.getInt(BootParams.HDR_SYSSIZE)) * 16;
        if (image.length < setupBytes + sysBytes) {
            throw bad(name, "truncated: the header announces " + setupBytes + " setup bytes and " + sysBytes
                    + " kernel bytes, the file has " + image.length);
        }
        if ((b.get(BootParams.HDR_LOADFLAGS) & LOADED_HIGH) == 0) {
            throw bad(name, "not a bzImage (LOADED_HIGH is clear: a zImage loaded at 0x10000)");
        }
        if ((b.getShort(BootParams.HDR_XLOADFLAGS) & XLF_KERNEL_64) == 0) {
            throw bad(name, "no 64-bit entry point (XLF_KERNEL_64 is clear in xloadflags): a 32-bit kernel");
        }
        long payloadEnd = Integer.toUnsignedLong(b.getInt(BootParams.HDR_PAYLOAD_OFFSET))
                + Integer.toUnsignedLong(b.getInt(BootParams.HDR_PAYLOAD_LENGTH));
        if (setupBytes + payloadEnd > image.length) {
            throw bad(name, "truncated: the compressed payload ends at " + (setupBytes + payloadEnd)
                    + ", the file has " + image.length + " bytes");
        }
        long alignment = Integer.toUnsignedLong(b.getInt(BootParams.HDR_KERNEL_ALIGNMENT));
        if (Long.bitCount(alignment) != 1) {
            throw bad(name, String.format("kernel_alignment 0x%x is not a power of two", alignment));
        }
        return new BzImage(name, b.array(), b, sects, headerEnd);
    }

    private static LinuxBootException bad(String name, String what) {
        return new LinuxBootException(name + ": " + what);
    }

    /** A protocol number as the documentation writes it, e.g. {@code 0x020f} as "2.15". */
    public static String versionString(int version) {
        return (version >> 8) + "." + String.format("%02d", version & 0xFF);
    }

    /** How errors name the image. */
    public String name() {
        return name;
    }

    /** The boot protocol version, e.g. {@code 0x020f} for 2.15. */
    public int protocolVersion() {
        return Short.toUnsignedInt(header.getShort(BootParams.HDR_VERSION));
    }

    /** Sectors of real-mode setup code after the boot sector ({@code setup_sects}, 0 read as 4). */
    public int setupSects() {
        return setupSects;
    }

    /** {@code loadflags} as the image has them. */
    public int loadFlags() {
        return Byte.toUnsignedInt(header.get(BootParams.HDR_LOADFLAGS));
    }

    /** {@code xloadflags}. */
    public int xloadFlags() {
        return Short.toUnsignedInt(header.getShort(BootParams.HDR_XLOADFLAGS));
    }

    /** True when the kernel may run at any {@link #kernelAlignment()}-aligned address. */
    public boolean relocatable() {
        return header.get(BootParams.HDR_RELOCATABLE_KERNEL) != 0;
    }

    /** {@code kernel_alignment}: the alignment a relocatable kernel needs. */
    public long kernelAlignment() {
        return Integer.toUnsignedLong(header.getInt(BootParams.HDR_KERNEL_ALIGNMENT));
    }

    /** {@code pref_address}: where the kernel prefers to be loaded. */
    public long prefAddress() {
        return header.getLong(BootParams.HDR_PREF_ADDRESS);
    }

    /** {@code init_size}: bytes the kernel needs from its load address while it decompresses and starts. */
    public long initSize() {
        return Integer.toUnsignedLong(header.getInt(BootParams.HDR_INIT_SIZE));
    }

    /** {@code initrd_addr_max}: the highest address the initrd may occupy (inclusive). */
    public long initrdAddrMax() {
        return Integer.toUnsignedLong(header.getInt(BootParams.HDR_INITRD_ADDR_MAX));
    }

    /** {@code cmdline_size}: the longest command line, in bytes, without its terminating NUL. */
    public long cmdlineSize() {
        return Integer.toUnsignedLong(header.getInt(BootParams.HDR_CMDLINE_SIZE));
    }

    /** {@code payload_offset}: where the compressed kernel starts, from the start of the protected-mode kernel. */
    public long payloadOffset() {
        return Integer.toUnsignedLong(header.getInt(BootParams.HDR_PAYLOAD_OFFSET));
    }

    /** {@code payload_length}: the compressed kernel's length. */
    public long payloadLength() {
        return Integer.toUnsignedLong(header.getInt(BootParams.HDR_PAYLOAD_LENGTH));
    }

    /**
     * Where the protected-mode kernel goes: {@code pref_address} for a relocatable kernel that prefers 1 MiB or more,
     * 1 MiB otherwise.
     */
    public long loadAddress() {
        long pref = prefAddress();
        return relocatable() && pref >= DEFAULT_LOAD_ADDRESS ? pref : DEFAULT_LOAD_ADDRESS;
    }

    /**
     * The setup header: a copy of the file's bytes from {@code 0x1F1} to the end the jump at 0x200 gives, to be put
     * at the same offset of the zero page.
     */
    public byte[] setupHeader() {
        return Arrays.copyOfRange(image, BootParams.HDR, headerEnd);
    }

    /** The protected-mode kernel: a copy of everything after the {@code (setup_sects + 1) * 512} setup bytes. */
    public byte[] protectedModeKernel() {
        return Arrays.copyOfRange(image, (setupSects + 1) * SECTOR, image.length);
    }

    @Override
    public String toString() {
        return String.format("%s (boot protocol %s, load 0x%x, init_size 0x%x)", name,
                versionString(protocolVersion()), loadAddress(), initSize());
    }
}
