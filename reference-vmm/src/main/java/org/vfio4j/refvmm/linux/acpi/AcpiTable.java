package org.vfio4j.refvmm.linux.acpi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The common part of every system description table: the 36-byte header (signature, length, revision, checksum,
 * OEM fields, creator fields) and the byte checksum that makes a table sum to zero.
 */
public final class AcpiTable {
    /** Length of the standard table header. */
    public static final int HEADER_LENGTH = 36;
    /** OEM ID of every table (and of the RSDP), six characters. */
    public static final String OEM_ID = "VFIO4J";
    /** OEM table ID of every table, eight characters. */
    public static final String OEM_TABLE_ID = "REFVMM  ";
    /** OEM revision of every table. */
    public static final int OEM_REVISION = 1;
    /** Creator ID (the "ASL compiler" that made the table), four characters. */
    public static final String CREATOR_ID = "VF4J";
    /** Creator revision. */
    public static final int CREATOR_REVISION = 1;
    /** Offset of the checksum byte in the header. */
    static final int CHECKSUM_OFFSET = 9;

    private AcpiTable() {
    }

    /**
     * A complete table: the header for {@code signature} and {@code revision} followed by {@code body}, with the
     * length and checksum filled in.
     */
    public static byte[] of(String signature, int revision, byte[] body) {
        if (signature.length() != 4) {
            throw new IllegalArgumentException("table signatures have four characters: " + signature);
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_LENGTH + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ascii(signature, 4));
        b.putInt(HEADER_LENGTH + body.length);
        b.put((byte) revision);
        b.put((byte) 0); // checksum, below
        b.put(ascii(OEM_ID, 6));
        b.put(ascii(OEM_TABLE_ID, 8));
        b.putInt(OEM_REVISION);
        b.put(ascii(CREATOR_ID, 4));
        b.putInt(CREATOR_REVISION);
        b.put(body);
        byte[] table = b.array();
        table[CHECKSUM_OFFSET] = checksum(table, 0, table.length);
        return table;
    }

    /** The byte that, added to the {@code length} bytes at {@code offset}, makes their sum zero modulo 256. */
    public static byte checksum(byte[] data, int offset, int length) {
        int sum = 0;
        for (int i = offset; i < offset + length; i++) {
            sum += data[i];
        }
        return (byte) -sum;
    }

    /** True when the {@code length} bytes at {@code offset} sum to zero modulo 256. */
    public static boolean sumsToZero(byte[] data, int offset, int length) {
        int sum = 0;
        for (int i = offset; i < offset + length; i++) {
            sum += data[i];
        }
        return (sum & 0xFF) == 0;
    }

    /** {@code s} as exactly {@code length} ASCII bytes, padded with spaces. */
    static byte[] ascii(String s, int length) {
        if (s.length() > length) {
            throw new IllegalArgumentException("'" + s + "' is longer than " + length);
        }
        byte[] out = new byte[length];
        java.util.Arrays.fill(out, (byte) ' ');
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    /** A little-endian buffer for a table body. */
    static ByteBuffer body(int length) {
        return ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * A Generic Address Structure for a byte-wide register in system I/O space: space 1, width 8, offset 0, byte
     * access, the port.
     */
    static void putIoByteGas(ByteBuffer b, int port) {
        b.put((byte) 1).put((byte) 8).put((byte) 0).put((byte) 1).putLong(port);
    }
}
