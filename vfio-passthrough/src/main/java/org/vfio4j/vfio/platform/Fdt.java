package org.vfio4j.vfio.platform;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads a flattened device tree blob (DTB, the format of the Devicetree Specification, chapter 5): the header, the
 * structure block and the strings block, into a tree of {@link DtNode}s. Every offset and length is checked against
 * the blob; a malformed blob is refused with a {@link DeviceTreeException} that says where.
 */
public final class Fdt {
    /** The header magic. */
    public static final int MAGIC = 0xd00dfeed;
    static final int HEADER_SIZE = 40;
    static final int BEGIN_NODE = 1;
    static final int END_NODE = 2;
    static final int PROP = 3;
    static final int NOP = 4;
    static final int END = 9;
    /** The oldest structure version this reader understands (16 and 17 share the layout read here). */
    static final int LAST_COMPATIBLE = 16;
    private static final int MAX_DEPTH = 64;

    private Fdt() {
    }

    /**
     * The tree in {@code blob}.
     *
     * @throws DeviceTreeException when the blob is not a valid flattened device tree
     */
    public static DtNode parse(byte[] blob) {
        if (blob.length < HEADER_SIZE) {
            throw bad("blob of " + blob.length + " bytes is shorter than the 40-byte header");
        }
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.BIG_ENDIAN);
        if (b.getInt(0) != MAGIC) {
            throw bad(String.format("magic 0x%08x, not 0x%08x", b.getInt(0), MAGIC));
        }
        long total = Integer.toUnsignedLong(b.getInt(4));
        long structOff = Integer.toUnsignedLong(b.getInt(8));
        long stringsOff = Integer.toUnsignedLong(b.getInt(12));
        int version = b.getInt(20);
        int lastCompatible = b.getInt(24);
        long stringsSize = Integer.toUnsignedLong(b.getInt(32));
        long structSize = Integer.toUnsignedLong(b.getInt(36));
        if (total > blob.length) {
            throw bad("header says totalsize " + total + ", the blob has " + blob.length + " bytes (truncated)");
        }
        if (lastCompatible > 17 || version < LAST_COMPATIBLE) {
            throw bad("version " + version + " (last compatible " + lastCompatible + "); this reader reads 16 and 17");
        }
        if (structOff + structSize > total || stringsOff + stringsSize > total) {
            throw bad(String.format("structure block 0x%x+0x%x or strings block 0x%x+0x%x beyond totalsize 0x%x",
                    structOff, structSize, stringsOff, stringsSize, total));
        }
        return new Reader(blob, (int) structOff, (int) (structOff + structSize), (int) stringsOff,
                (int) stringsSize).read();
    }

    private static DeviceTreeException bad(String what) {
        return new DeviceTreeException("malformed flattened device tree: " + what);
    }

    /** Walks the structure block. */
    private static final class Reader {
        private final ByteBuffer b;
        private final byte[] blob;
        private final int end;
        private final int strings;
        private final int stringsSize;
        private int pos;

        Reader(byte[] blob, int start, int end, int strings, int stringsSize) {
            this.blob = blob;
            this.b = ByteBuffer.wrap(blob).order(ByteOrder.BIG_ENDIAN);
            this.pos = start;
            this.end = end;
            this.strings = strings;
            this.stringsSize = stringsSize;
        }

        DtNode read() {
            int token = nextToken();
            if (token != BEGIN_NODE) {
                throw bad(String.format("structure block starts with token %d at 0x%x, not FDT_BEGIN_NODE", token,
                        pos - 4));
            }
            String rootName = name();
            if (!rootName.isEmpty()) {
                throw bad("root node has the name \"" + rootName + "\"; it must have none");
            }
            DtNode root = new DtNode("", null);
            DtNode current = root;
            int depth = 1;
            while (true) {
                int at = pos;
                token = nextToken();
                switch (token) {
                    case BEGIN_NODE -> {
                        if (++depth > MAX_DEPTH) {
                            throw bad("nodes nested deeper than " + MAX_DEPTH + " at 0x" + Integer.toHexString(at));
                        }
                        current = new DtNode(name(), current);
                    }
                    case END_NODE -> {
                        depth--;
                        if (current.parent() == null) {
                            int t = nextToken();
                            while (t == NOP) {
                                t = nextToken();
                            }
                            if (t != END) {
                                throw bad(String.format("token %d at 0x%x after the root node ended, not FDT_END",
                                        t, pos - 4));
                            }
                            return root;
                        }
                        current = current.parent();
                    }
                    case PROP -> property(current, at);
                    case NOP -> { }
                    case END -> throw bad(String.format("FDT_END at 0x%x inside %s (%d nodes still open)", at,
                            current.path(), depth));
                    default -> throw bad(String.format("unknown token 0x%x at 0x%x in %s", token, at,
                            current.path()));
                }
            }
        }

        private void property(DtNode node, int at) {
            need(8, "property header in " + node.path());
            int len = b.getInt(pos);
            int nameOff = b.getInt(pos + 4);
            pos += 8;
            if (len < 0 || len > end - pos) {
                throw bad(String.format("property at 0x%x in %s claims %d bytes, %d are left in the structure block "
                        + "(truncated property)", at, node.path(), Integer.toUnsignedLong(len), end - pos));
            }
            if (nameOff < 0 || nameOff >= stringsSize) {
                throw bad(String.format("property at 0x%x in %s has name offset 0x%x outside the strings block "
                        + "(0x%x bytes)", at, node.path(), Integer.toUnsignedLong(nameOff), stringsSize));
            }
            int s = strings + nameOff;
            int e = s;
            while (e < strings + stringsSize && blob[e] != 0) {
                e++;
            }
            if (e == strings + stringsSize) {
                throw bad("property name at strings offset 0x" + Integer.toHexString(nameOff) + " is not terminated");
            }
            byte[] value = new byte[len];
            System.arraycopy(blob, pos, value, 0, len);
            pos = align(pos + len);
            node.put(new String(blob, s, e - s, StandardCharsets.UTF_8), value);
        }

        private String name() {
            int s = pos;
            while (pos < end && blob[pos] != 0) {
                pos++;
            }
            if (pos >= end) {
                throw bad(String.format("node name at 0x%x runs past the structure block", s));
            }
            String n = new String(blob, s, pos - s, StandardCharsets.UTF_8);
            pos = align(pos + 1);
            return n;
        }

        private int nextToken() {
            need(4, "token");
            int t = b.getInt(pos);
            pos += 4;
            return t;
        }

        private void need(int n, String what) {
            if (pos > end - n) {
                throw bad(String.format("%s at 0x%x runs past the end of the structure block (0x%x)", what, pos,
                        end));
            }
        }

        private static int align(int p) {
            return (p + 3) & ~3;
        }
    }
}
