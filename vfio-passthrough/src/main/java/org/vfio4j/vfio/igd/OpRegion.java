package org.vfio4j.vfio.igd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An Intel IGD OpRegion as the kernel exposes it (the VFIO region of type PCI vendor 0x8086, subtype 1), validated.
 *
 * <p>Layout (Intel's IGD OpRegion specification, as Linux's i915 reads it): a 256-byte header, then up to five
 * mailboxes at fixed offsets: 1 (public ACPI methods) at 0x100, 2 (SWSCI) at 0x200, 3 (ASLE) at 0x300, 4 (the VBT,
 * 6 KiB) at 0x400 and 5 (ASLE extension) at 0x1C00, 8 KiB in all. The header holds the signature
 * {@code "IntelGraphicsMem"} at 0, the size in KiB at 0x10, the version at 0x14 (reserved, revision, minor, major:
 * so the 16-bit value at 0x16 reads 0x0201 for 2.1), and the mailboxes present as flags at 0x58.
 *
 * <p>From version 2.0 a VBT too large for mailbox 4 lives in an extended area described by RVDA (u64 at 0x3BA) and
 * RVDS (u32 at 0x3C2) in mailbox 3. In 2.0 RVDA is a physical address, from 2.1 an offset from the OpRegion base.
 * vfio-pci (6.1 and later, since its "OpRegion 2.0+ Extended VBT support" change) exposes the OpRegion and the
 * extended VBT as one region, the VBT right after the OpRegion; when there is an extended VBT it reports a 2.0
 * OpRegion as 2.1, and RVDA reads as the OpRegion size (8 KiB), or 0 without one. A copy of that region is
 * therefore self-contained: RVDA is relative, so it stays right wherever the copy is
 * placed. A region that still says 2.0 with a non-zero RVDA carries a host physical address and is refused.
 *
 * @param bytes the whole region as read (OpRegion plus extended VBT, if any)
 * @param sizeKiB the OpRegion size in KiB from the header (8 for every published version)
 * @param major version major
 * @param minor version minor
 * @param mailboxes the mailbox flags word
 * @param rvda the extended VBT offset (relative), 0 when there is none
 * @param rvds the extended VBT size in bytes, 0 when there is none
 */
record OpRegion(byte[] bytes, int sizeKiB, int major, int minor, int mailboxes, long rvda, int rvds) {
    /** The signature at offset 0. */
    public static final String SIGNATURE = "IntelGraphicsMem";
    /** Offset of the size field (KiB). */
    public static final int SIZE_OFFSET = 0x10;
    /** Offset of the version dword (reserved, revision, minor, major). */
    public static final int OVER_OFFSET = 0x14;
    /** Offset of the 16-bit version vfio-pci reads (minor in the low byte, major in the high). */
    public static final int VERSION_OFFSET = 0x16;
    /** Offset of the mailbox flags. */
    public static final int MBOX_OFFSET = 0x58;
    /** Size of the header. */
    public static final int HEADER_SIZE = 0x100;
    /** Mailbox 1: public ACPI methods. */
    public static final int ACPI_OFFSET = 0x100;
    /** Mailbox 2: software SCI. */
    public static final int SWSCI_OFFSET = 0x200;
    /** Mailbox 3: BIOS to driver notification (ASLE). */
    public static final int ASLE_OFFSET = 0x300;
    /** Mailbox 4: the video BIOS table. */
    public static final int VBT_OFFSET = 0x400;
    /** Mailbox 4's size. */
    public static final int VBT_MAILBOX_SIZE = 0x1800;
    /** Mailbox 5: ASLE extension. */
    public static final int ASLE_EXT_OFFSET = 0x1C00;
    /** Offset of RVDA (u64) in mailbox 3. */
    public static final int RVDA_OFFSET = 0x3BA;
    /** Offset of RVDS (u32) in mailbox 3. */
    public static final int RVDS_OFFSET = 0x3C2;
    /** The OpRegion size every published version has (without an extended VBT). */
    public static final int STANDARD_SIZE = 8 * 1024;
    /** Mailbox flag of mailbox 1. */
    public static final int MBOX_ACPI = 1 << 0;
    /** Mailbox flag of mailbox 2. */
    public static final int MBOX_SWSCI = 1 << 1;
    /** Mailbox flag of mailbox 3. */
    public static final int MBOX_ASLE = 1 << 2;
    /** Mailbox flag of mailbox 5. */
    public static final int MBOX_ASLE_EXT = 1 << 4;

    /** Keeps a copy of the bytes. */
    public OpRegion {
        bytes = bytes.clone();
    }

    /** The region bytes (a copy). */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Header plus mailboxes, in bytes. */
    public int opRegionSize() {
        return sizeKiB * 1024;
    }

    /** The 16-bit version as vfio-pci reads it: 0x0201 for 2.1. */
    public int version() {
        return major << 8 | minor;
    }

    /** True when an extended VBT follows the OpRegion. */
    public boolean hasExtendedVbt() {
        return rvda != 0 && rvds != 0;
    }

    /** How many bytes a guest copy needs: the OpRegion plus the extended VBT. */
    public int copySize() {
        return opRegionSize() + (hasExtendedVbt() ? rvds : 0);
    }

    /**
     * Validates {@code region} (the bytes read from the VFIO region) as an OpRegion.
     *
     * @param what names the device and region in errors
     * @throws IllegalArgumentException saying what is wrong
     */
    public static OpRegion parse(byte[] region, String what) {
        if (region.length < HEADER_SIZE) {
            throw new IllegalArgumentException(String.format("%s: %d bytes, shorter than the 0x%x-byte OpRegion "
                    + "header", what, region.length, HEADER_SIZE));
        }
        byte[] sig = Arrays.copyOfRange(region, 0, 16);
        if (!Arrays.equals(sig, SIGNATURE.getBytes(StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException(String.format("%s: signature \"%s\" is not \"%s\"", what,
                    printable(sig), SIGNATURE));
        }
        ByteBuffer b = ByteBuffer.wrap(region).order(ByteOrder.LITTLE_ENDIAN);
        long sizeKiB = Integer.toUnsignedLong(b.getInt(SIZE_OFFSET));
        if (sizeKiB == 0 || sizeKiB * 1024 > region.length) {
            throw new IllegalArgumentException(String.format("%s: header says %d KiB but the region has 0x%x bytes",
                    what, sizeKiB, region.length));
        }
        int minor = b.get(OVER_OFFSET + 2) & 0xff;
        int major = b.get(OVER_OFFSET + 3) & 0xff;
        int mailboxes = b.getInt(MBOX_OFFSET);
        int version = major << 8 | minor;
        long rvda = 0;
        int rvds = 0;
        if (version >= 0x0200 && region.length >= RVDS_OFFSET + 4) {
            rvda = b.getLong(RVDA_OFFSET);
            rvds = b.getInt(RVDS_OFFSET);
            if (rvda != 0 && rvds != 0) {
                if (version == 0x0200) {
                    throw new IllegalArgumentException(String.format("%s: version 2.0 with an extended VBT at "
                            + "physical address 0x%x; a guest cannot use a host address (the kernel exposes 2.1+ "
                            + "with a relative RVDA)", what, rvda));
                }
                long vbtEnd = rvda + Integer.toUnsignedLong(rvds);
                if (rvda != sizeKiB * 1024 || vbtEnd > region.length) {
                    throw new IllegalArgumentException(String.format("%s: extended VBT at offset 0x%x size 0x%x "
                            + "does not directly follow the %d KiB OpRegion inside the 0x%x-byte region", what, rvda,
                            Integer.toUnsignedLong(rvds), sizeKiB, region.length));
                }
            } else {
                rvda = 0;
                rvds = 0;
            }
        }
        return new OpRegion(region, (int) sizeKiB, major, minor, mailboxes, rvda, rvds);
    }

    private static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(x >= 0x20 && x < 0x7f ? (char) x : '.');
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OpRegion r && Arrays.equals(bytes, r.bytes) && sizeKiB == r.sizeKiB && major == r.major
                && minor == r.minor && mailboxes == r.mailboxes && rvda == r.rvda && rvds == r.rvds;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes) * 31 + version();
    }

    @Override
    public String toString() {
        return String.format("OpRegion %d.%d, %d KiB, mailboxes 0x%x%s", major, minor, sizeKiB, mailboxes,
                hasExtendedVbt() ? String.format(", extended VBT 0x%x bytes at +0x%x", rvds, rvda) : "");
    }
}
