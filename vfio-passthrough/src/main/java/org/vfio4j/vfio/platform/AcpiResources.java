package org.vfio4j.vfio.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The resources ACPI gives a device: its {@code _CRS} found in the DSDT by the device's ACPI path (sysfs
 * {@code firmware_node/path}, e.g. {@code \_SB_.VR21}) and decoded in order. The memory and I/O resources become
 * {@link FirmwareRegion}s and the interrupts {@link FirmwareIrq}s, numbered as Linux numbers them for a platform
 * device made from an ACPI node (one resource per interrupt a descriptor lists).
 *
 * <p>The AML reader is small: it follows Scope, Device, Name (with integer, string, buffer and package values),
 * Method, If/Else/While, OperationRegion with constant arguments, Field, External and Alias, which is what a
 * static {@code _CRS} needs; a {@code _CRS} that is a method (computed at run time) or a table with other top-level
 * terms before the device is refused with a message that says so.
 */
public final class AcpiResources {
    /** Where the kernel shows the DSDT. */
    public static final Path DSDT = Path.of("/sys/firmware/acpi/tables/DSDT");
    private static final int HEADER = 36;

    private final Map<String, byte[]> crs = new HashMap<>();
    private final Map<String, String> hids = new HashMap<>();
    private final List<String> dynamic = new ArrayList<>();
    private String stoppedAt;

    private AcpiResources() {
    }

    /** Reads every static {@code _CRS} of the AML table {@code table} (a DSDT or SSDT with its header). */
    public static AcpiResources parse(byte[] table) {
        if (table.length < HEADER) {
            throw new DeviceTreeException("ACPI table of " + table.length + " bytes is shorter than its header");
        }
        int length = (int) Math.min(table.length, Integer.toUnsignedLong(le32(table, 4)));
        AcpiResources r = new AcpiResources();
        new Aml(table, r).terms(HEADER, length, "");
        return r;
    }

    /** The host's DSDT. */
    public static AcpiResources host() {
        try {
            return parse(Files.readAllBytes(DSDT));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + DSDT, e);
        }
    }

    /**
     * What the {@code _CRS} of the device at ACPI path {@code path} says ({@code \_SB_.VR21}; a trailing
     * {@code _} padding of each name segment as sysfs prints it).
     *
     * @throws DeviceTreeException when the DSDT has no static {@code _CRS} for it
     */
    public FirmwareDevice describe(String path) {
        String key = normalize(path);
        byte[] template = crs.get(key);
        if (template == null) {
            String why = dynamic.contains(key) ? "its _CRS is a method (computed at run time), which this reader "
                    + "does not evaluate" : stoppedAt != null ? "the AML reader stopped at " + stoppedAt
                    + " before finding it" : "the DSDT has no Name(_CRS) for it";
            throw new DeviceTreeException("ACPI " + path + ": no resources: " + why);
        }
        List<FirmwareRegion> regions = new ArrayList<>();
        List<FirmwareIrq> irqs = new ArrayList<>();
        decode(path, template, regions, irqs);
        String hid = hids.get(key);
        return new FirmwareDevice("ACPI " + key + (hid != null ? " (" + hid + ")" : ""),
                hid != null ? List.of(hid) : List.of(), regions, irqs, Map.of());
    }

    /** The device paths that have a static {@code _CRS}. */
    public List<String> devices() {
        return crs.keySet().stream().sorted().toList();
    }

    static String normalize(String path) {
        String p = path.trim();
        if (p.startsWith("\\")) {
            p = p.substring(1);
        }
        StringBuilder out = new StringBuilder("\\");
        for (String seg : p.split("\\.")) {
            if (seg.isEmpty()) {
                continue;
            }
            if (out.length() > 1) {
                out.append('.');
            }
            out.append((seg + "____").substring(0, 4));
        }
        return out.toString();
    }

    /** Decodes a resource template (ACPI 6.5, 6.4) into regions and interrupts, in Linux's order. */
    static void decode(String path, byte[] t, List<FirmwareRegion> regions, List<FirmwareIrq> irqs) {
        int p = 0;
        while (p < t.length) {
            int tag = t[p] & 0xff;
            int len;
            int body;
            int type;
            if ((tag & 0x80) == 0) {
                type = (tag >> 3) & 0xf;
                len = tag & 7;
                body = p + 1;
            } else {
                if (p + 3 > t.length) {
                    throw truncated(path, p);
                }
                type = 0x80 | (tag & 0x7f);
                len = le16(t, p + 1);
                body = p + 3;
            }
            if (body + len > t.length) {
                throw truncated(path, p);
            }
            switch (type) {
                case 0x4 -> { // IRQ: mask, [info]
                    int mask = le16(t, body);
                    boolean edge = len < 3 || (t[body + 2] & 1) != 0;
                    for (int i = 0; i < 16; i++) {
                        if ((mask & (1 << i)) != 0) {
                            irqs.add(new FirmwareIrq(irqs.size(), i, edge ? Trigger.EDGE : Trigger.LEVEL, "GSI",
                                    "IRQ descriptor"));
                        }
                    }
                }
                case 0x8 -> regions.add(new FirmwareRegion(regions.size(), le16(t, body + 1), t[body + 6] & 0xff,
                        true, false)); // IO: info, min, max, align, length
                case 0x9 -> regions.add(new FirmwareRegion(regions.size(), le16(t, body), t[body + 2] & 0xff, true,
                        false)); // FixedIO
                case 0xf -> {
                    return; // End Tag
                }
                case 0x85 -> regions.add(new FirmwareRegion(regions.size(), le32u(t, body + 1), le32u(t, body + 13),
                        false, (t[body] & 1) == 0)); // Memory32: info, min, max, align, length
                case 0x86 -> regions.add(new FirmwareRegion(regions.size(), le32u(t, body + 1), le32u(t, body + 5),
                        false, (t[body] & 1) == 0)); // Memory32Fixed: info, base, length
                case 0x87, 0x88, 0x8a -> address(type, t, body, regions);
                case 0x89 -> { // Extended IRQ: flags, count, u32 interrupts
                    int flags = t[body] & 0xff;
                    int count = t[body + 1] & 0xff;
                    if (2 + 4 * count > len) {
                        throw truncated(path, p);
                    }
                    for (int i = 0; i < count; i++) {
                        irqs.add(new FirmwareIrq(irqs.size(), le32u(t, body + 2 + 4 * i),
                                (flags & 2) != 0 ? Trigger.EDGE : Trigger.LEVEL, "GSI", String.format(
                                        "Interrupt(%s, %s)", (flags & 2) != 0 ? "Edge" : "Level",
                                        (flags & 4) != 0 ? "ActiveLow" : "ActiveHigh")));
                    }
                }
                default -> { } // DMA, vendor, GPIO, serial bus ...: not a region or an interrupt of vfio-platform's
            }
            p = body + len;
        }
    }

    private static void address(int type, byte[] t, int body, List<FirmwareRegion> regions) {
        int space = t[body] & 0xff;
        boolean writable = (t[body + 2] & 1) != 0;
        int w = type == 0x88 ? 2 : type == 0x87 ? 4 : 8;
        int at = body + 3;
        long min = read(t, at + w, w);
        long translation = read(t, at + 3 * w, w);
        long length = read(t, at + 4 * w, w);
        if (space == 0) {
            regions.add(new FirmwareRegion(regions.size(), min + translation, length, false, !writable));
        } else if (space == 1) {
            regions.add(new FirmwareRegion(regions.size(), min + translation, length, true, false));
        }
    }

    private static long read(byte[] t, int at, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = v << 8 | (t[at + i] & 0xff);
        }
        return v;
    }

    private static DeviceTreeException truncated(String path, int at) {
        return new DeviceTreeException("ACPI " + path + ": _CRS resource descriptor at byte " + at
                + " runs past the end of the buffer (truncated)");
    }

    static int le16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    static int le32(byte[] b, int at) {
        return le16(b, at) | le16(b, at + 2) << 16;
    }

    static long le32u(byte[] b, int at) {
        return Integer.toUnsignedLong(le32(b, at));
    }

    /** The AML walk. */
    private static final class Aml {
        private final byte[] b;
        private final AcpiResources out;
        private int p;

        Aml(byte[] b, AcpiResources out) {
            this.b = b;
            this.out = out;
        }

        void terms(int from, int end, String scope) {
            p = from;
            while (p < end) {
                int at = p;
                int op = b[p++] & 0xff;
                if (op == 0x10) { // Scope
                    int e = pkgEnd();
                    String s = resolve(scope, nameString());
                    terms(p, e, s);
                    p = e;
                } else if (op == 0x08) { // Name
                    String n = nameString();
                    name(scope, n);
                } else if (op == 0x14 || op == 0xa0 || op == 0xa1 || op == 0xa2) { // Method, If, Else, While
                    int e = pkgEnd();
                    if (op == 0x14) {
                        String n = nameString();
                        if (n.equals("_CRS")) {
                            out.dynamic.add(scope);
                        }
                    }
                    p = e;
                } else if (op == 0x15) { // External: name, type, argument count
                    nameString();
                    p += 2;
                } else if (op == 0x06) { // Alias
                    nameString();
                    nameString();
                } else if (op == 0x5b) {
                    int ext = b[p++] & 0xff;
                    if (ext == 0x82 || ext == 0x85) { // Device, ThermalZone
                        int e = pkgEnd();
                        String s = resolve(scope, nameString());
                        terms(p, e, s);
                        p = e;
                    } else if (ext == 0x81 || ext == 0x86 || ext == 0x87 || ext == 0x83 || ext == 0x84) {
                        p = pkgEnd(); // Field, IndexField, BankField, Processor, PowerResource
                    } else if (ext == 0x80) { // OperationRegion: name, space, offset, length
                        nameString();
                        p++;
                        if (integer() == null || integer() == null) {
                            stop(at, scope);
                            return;
                        }
                    } else if (ext == 0x01) { // Mutex: name, flags
                        nameString();
                        p++;
                    } else if (ext == 0x02) { // Event
                        nameString();
                    } else {
                        stop(at, scope);
                        return;
                    }
                } else {
                    stop(at, scope);
                    return;
                }
            }
        }

        private void stop(int at, String scope) {
            if (out.stoppedAt == null) {
                out.stoppedAt = String.format("opcode 0x%02x at byte %d in %s", b[at] & 0xff, at,
                        scope.isEmpty() ? "\\" : scope);
            }
            p = b.length;
        }

        private void name(String scope, String n) {
            int op = b[p] & 0xff;
            if (op == 0x11) { // Buffer: PkgLength, BufferSize, bytes
                p++;
                int e = pkgEnd();
                Long size = integer();
                if (size == null) {
                    p = e;
                    return;
                }
                byte[] data = new byte[Math.max(0, Math.min(e - p, (int) Math.min(size, Integer.MAX_VALUE)))];
                System.arraycopy(b, p, data, 0, data.length);
                if (n.equals("_CRS")) {
                    out.crs.put(scope, data);
                }
                p = e;
            } else if (op == 0x12 || op == 0x13) { // Package, VarPackage
                p++;
                p = pkgEnd();
            } else if (op == 0x0d) { // String
                p++;
                int s = p;
                while (b[p] != 0) {
                    p++;
                }
                String v = new String(b, s, p - s, StandardCharsets.US_ASCII);
                p++;
                if (n.equals("_HID")) {
                    out.hids.put(scope, v);
                }
            } else {
                Long v = integer();
                if (v == null) {
                    stop(p, scope);
                } else if (n.equals("_HID")) {
                    out.hids.put(scope, eisaId(v));
                }
            }
        }

        private Long integer() {
            int op = b[p++] & 0xff;
            return switch (op) {
                case 0x00 -> 0L;
                case 0x01 -> 1L;
                case 0xff -> -1L;
                case 0x0a -> (long) (b[p++] & 0xff);
                case 0x0b -> {
                    long v = le16(b, p);
                    p += 2;
                    yield v;
                }
                case 0x0c -> {
                    long v = le32u(b, p);
                    p += 4;
                    yield v;
                }
                case 0x0e -> {
                    long v = le32u(b, p) | le32u(b, p + 4) << 32;
                    p += 8;
                    yield v;
                }
                default -> {
                    p--;
                    yield null;
                }
            };
        }

        private int pkgEnd() {
            int start = p;
            int lead = b[p++] & 0xff;
            int extra = lead >> 6;
            int len;
            if (extra == 0) {
                len = lead & 0x3f;
            } else {
                len = lead & 0x0f;
                for (int i = 0; i < extra; i++) {
                    len |= (b[p++] & 0xff) << (4 + 8 * i);
                }
            }
            return start + len;
        }

        private String nameString() {
            StringBuilder s = new StringBuilder();
            while (b[p] == '\\' || b[p] == '^') {
                s.append((char) b[p++]);
            }
            int segs;
            int c = b[p] & 0xff;
            if (c == 0x00) {
                p++;
                segs = 0;
            } else if (c == 0x2e) {
                p++;
                segs = 2;
            } else if (c == 0x2f) {
                p++;
                segs = b[p++] & 0xff;
            } else {
                segs = 1;
            }
            for (int i = 0; i < segs; i++) {
                if (i > 0) {
                    s.append('.');
                }
                s.append(new String(b, p, 4, StandardCharsets.US_ASCII));
                p += 4;
            }
            return s.toString();
        }

        private static String resolve(String scope, String name) {
            if (name.startsWith("\\")) {
                return normalize(name);
            }
            String base = scope.isEmpty() ? "\\" : scope;
            while (name.startsWith("^")) {
                name = name.substring(1);
                int dot = base.lastIndexOf('.');
                base = dot < 0 ? "\\" : base.substring(0, dot);
            }
            return normalize(base + (base.equals("\\") ? "" : ".") + name);
        }

        private static String eisaId(long v) {
            int id = Integer.reverseBytes((int) v);
            char c1 = (char) ('@' + ((id >> 26) & 0x1f));
            char c2 = (char) ('@' + ((id >> 21) & 0x1f));
            char c3 = (char) ('@' + ((id >> 16) & 0x1f));
            return String.format("%c%c%c%04X", c1, c2, c3, id & 0xffff);
        }
    }

    /** The _CRS bytes of a device (for tests and tools). */
    Optional<byte[]> template(String path) {
        return Optional.ofNullable(crs.get(normalize(path)));
    }
}
