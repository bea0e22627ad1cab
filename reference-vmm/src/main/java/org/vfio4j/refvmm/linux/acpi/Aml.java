package org.vfio4j.refvmm.linux.acpi;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal AML (ACPI Machine Language) encoder: just the terms a static DSDT needs. Every method returns the
 * encoded bytes of one term, so terms nest by passing one method's result to another.
 *
 * <p>Encodings follow the ACPI specification, chapter 20 (ACPI Machine Language Specification).
 */
public final class Aml {
    static final int ZERO_OP = 0x00;
    static final int ONE_OP = 0x01;
    static final int NAME_OP = 0x08;
    static final int BYTE_PREFIX = 0x0A;
    static final int WORD_PREFIX = 0x0B;
    static final int DWORD_PREFIX = 0x0C;
    static final int STRING_PREFIX = 0x0D;
    static final int QWORD_PREFIX = 0x0E;
    static final int SCOPE_OP = 0x10;
    static final int BUFFER_OP = 0x11;
    static final int PACKAGE_OP = 0x12;
    static final int DUAL_NAME_PREFIX = 0x2E;
    static final int MULTI_NAME_PREFIX = 0x2F;
    static final int EXT_OP_PREFIX = 0x5B;
    static final int DEVICE_OP = 0x82;
    static final int ROOT_CHAR = '\\';
    static final int PARENT_PREFIX = '^';
    /** Largest value a PkgLength can encode (28 bits). */
    static final int MAX_PKG_LENGTH = (1 << 28) - 1;

    private Aml() {
    }

    /**
     * An integer in its shortest encoding: ZeroOp, OneOp, or a Byte/Word/DWord/QWord prefix (OnesOp is never used:
     * its value depends on the table revision).
     */
    public static byte[] integer(long value) {
        if (value == 0) {
            return new byte[] {ZERO_OP};
        }
        if (value == 1) {
            return new byte[] {ONE_OP};
        }
        if ((value & ~0xFFL) == 0) {
            return le(BYTE_PREFIX, value, 1);
        }
        if ((value & ~0xFFFFL) == 0) {
            return le(WORD_PREFIX, value, 2);
        }
        if ((value & ~0xFFFF_FFFFL) == 0) {
            return le(DWORD_PREFIX, value, 4);
        }
        return le(QWORD_PREFIX, value, 8);
    }

    /** A string constant: ASCII characters 0x01..0x7F, NUL-terminated. */
    public static byte[] string(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(STRING_PREFIX);
        for (char c : s.toCharArray()) {
            if (c == 0 || c > 0x7F) {
                throw new IllegalArgumentException("AML strings are ASCII without NUL: " + s);
            }
            out.write(c);
        }
        out.write(0);
        return out.toByteArray();
    }

    /** A buffer whose size is the length of {@code contents}. */
    public static byte[] buffer(byte[] contents) {
        return withPkgLength(new byte[] {BUFFER_OP}, concat(integer(contents.length), contents));
    }

    /** A package of up to 255 elements, each an encoded data object (integer, string, buffer, package). */
    public static byte[] packageOf(byte[]... elements) {
        if (elements.length > 255) {
            throw new IllegalArgumentException("a Package holds at most 255 elements, got " + elements.length);
        }
        return withPkgLength(new byte[] {PACKAGE_OP}, concat(new byte[] {(byte) elements.length}, concat(elements)));
    }

    /** {@code Name(path, value)}: declares a named object holding {@code value}. */
    public static byte[] name(String path, byte[] value) {
        return concat(new byte[] {NAME_OP}, nameString(path), value);
    }

    /** {@code Scope(path) { terms }}. */
    public static byte[] scope(String path, byte[]... terms) {
        return withPkgLength(new byte[] {SCOPE_OP}, concat(nameString(path), concat(terms)));
    }

    /** {@code Device(path) { terms }}. */
    public static byte[] device(String path, byte[]... terms) {
        return withPkgLength(new byte[] {EXT_OP_PREFIX, (byte) DEVICE_OP}, concat(nameString(path), concat(terms)));
    }

    /**
     * {@code EISAID("PNP0A08")}: a seven-character PnP id compressed to a 32-bit integer (three 5-bit letters and
     * four hex digits, stored big-endian in a little-endian integer, as ASL compilers do).
     */
    public static byte[] eisaId(String id) {
        return integer(eisaIdValue(id));
    }

    /** The integer value of {@link #eisaId(String)}. */
    public static long eisaIdValue(String id) {
        if (!id.matches("[A-Z]{3}[0-9A-F]{4}")) {
            throw new IllegalArgumentException("not an EISA id (three capitals, four hex digits): " + id);
        }
        int v = (id.charAt(0) - 0x40) << 26 | (id.charAt(1) - 0x40) << 21 | (id.charAt(2) - 0x40) << 16
                | Integer.parseInt(id.substring(3), 16);
        return Integer.reverseBytes(v) & 0xFFFF_FFFFL;
    }

    /**
     * A NameString: optional root ({@code \}) or parent ({@code ^}) prefixes, then dot-separated segments of up to
     * four characters (padded with {@code _}); two segments use DualNamePrefix, more use MultiNamePrefix.
     */
    public static byte[] nameString(String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        if (path.startsWith("\\")) {
            out.write(ROOT_CHAR);
            i = 1;
        } else {
            while (i < path.length() && path.charAt(i) == '^') {
                out.write(PARENT_PREFIX);
                i++;
            }
        }
        String rest = path.substring(i);
        if (rest.isEmpty()) {
            out.write(0); // NullName
            return out.toByteArray();
        }
        String[] segs = rest.split("\\.", -1);
        if (segs.length == 2) {
            out.write(DUAL_NAME_PREFIX);
        } else if (segs.length > 2) {
            if (segs.length > 255) {
                throw new IllegalArgumentException("too many name segments: " + path);
            }
            out.write(MULTI_NAME_PREFIX);
            out.write(segs.length);
        }
        for (String s : segs) {
            out.writeBytes(nameSeg(s, path));
        }
        return out.toByteArray();
    }

    private static byte[] nameSeg(String s, String path) {
        if (!s.matches("[A-Z_][A-Z0-9_]{0,3}")) {
            throw new IllegalArgumentException("bad AML name segment '" + s + "' in " + path);
        }
        byte[] seg = {'_', '_', '_', '_'};
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, seg, 0, b.length);
        return seg;
    }

    /**
     * The PkgLength encoding for a package whose contents after the PkgLength are {@code contentLength} bytes: the
     * encoded length counts itself, and takes 1 byte (up to 63) or 2-4 bytes (a count in bits 7-6 of the first
     * byte, its bits 3-0 the low nibble, the following bytes the rest).
     */
    public static byte[] pkgLength(int contentLength) {
        if (contentLength < 0) {
            throw new IllegalArgumentException("negative length");
        }
        if (contentLength + 1 <= 0x3F) {
            return new byte[] {(byte) (contentLength + 1)};
        }
        for (int n = 2; n <= 4; n++) {
            long total = (long) contentLength + n;
            if (total < 1L << (4 + 8 * (n - 1))) {
                byte[] out = new byte[n];
                out[0] = (byte) ((n - 1) << 6 | (total & 0xF));
                for (int k = 1; k < n; k++) {
                    out[k] = (byte) (total >>> (4 + 8 * (k - 1)));
                }
                return out;
            }
        }
        throw new IllegalArgumentException("package too large for a PkgLength: " + contentLength + " bytes");
    }

    /** Joins byte arrays. */
    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] withPkgLength(byte[] opcode, byte[] contents) {
        return concat(opcode, pkgLength(contents.length), contents);
    }

    private static byte[] le(int prefix, long value, int bytes) {
        byte[] out = new byte[bytes + 1];
        out[0] = (byte) prefix;
        for (int i = 0; i < bytes; i++) {
            out[i + 1] = (byte) (value >>> (8 * i));
        }
        return out;
    }
}
