package org.vfio4j.vfio.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A device tree with the lookups a platform device's description needs: nodes by path and by phandle, and
 * {@link #describe(DtNode)}, which reads a node's {@code reg} with its parent's {@code #address-cells} and
 * {@code #size-cells}, translates each address to a CPU address through every ancestor's {@code ranges}, and reads
 * its interrupts ({@code interrupts-extended}, or {@code interrupts} with the controller found through
 * {@code interrupt-parent} the way Linux's {@code of_irq_find_parent} does). Bad cell counts, truncated properties,
 * unknown phandles and loops in {@code interrupt-parent} are refused with a {@link DeviceTreeException} naming the
 * node and the index.
 */
public final class DeviceTree {
    /** The kernel's live tree. */
    public static final Path LIVE = Path.of("/sys/firmware/devicetree/base");
    /** Properties that name host resources or other nodes, left out of {@link FirmwareDevice#properties()}. */
    static final Set<String> HOST_PROPERTIES = Set.of("reg", "interrupts", "interrupts-extended",
            "interrupt-parent", "phandle", "linux,phandle", "name", "status", "clocks", "clock-names", "resets",
            "reset-names", "power-domains", "dmas", "dma-names", "iommus", "msi-parent", "pinctrl-names",
            "pinctrl-0", "pinctrl-1", "assigned-clocks", "assigned-clock-rates", "assigned-clock-parents");
    private static final int MAX_ADDRESS_CELLS = 3;
    private static final int MAX_SIZE_CELLS = 2;

    private final DtNode root;
    private final Map<Integer, DtNode> phandles = new HashMap<>();

    /** The tree under {@code root}. */
    public DeviceTree(DtNode root) {
        this.root = root;
        index(root);
    }

    /** A flattened tree (DTB). */
    public static DeviceTree parse(byte[] dtb) {
        return new DeviceTree(Fdt.parse(dtb));
    }

    /**
     * A tree as the kernel shows it under {@code /sys/firmware/devicetree/base}: a directory per node, a file per
     * property.
     */
    public static DeviceTree fromDirectory(Path base) {
        DtNode r = new DtNode("", null);
        readDirectory(base, r);
        return new DeviceTree(r);
    }

    private static void readDirectory(Path dir, DtNode node) {
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("reading device tree directory " + dir, e);
        }
        for (Path p : entries) {
            String n = p.getFileName().toString();
            try {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    readDirectory(p, new DtNode(n, node));
                } else if (Files.isRegularFile(p)) {
                    node.put(n, Files.readAllBytes(p));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading device tree property " + p, e);
            }
        }
    }

    private void index(DtNode n) {
        Optional<Integer> ph = n.u32("phandle").or(() -> n.u32("linux,phandle"));
        if (ph.isPresent()) {
            DtNode before = phandles.put(ph.get(), n);
            if (before != null) {
                throw new DeviceTreeException(n.path() + " and " + before.path() + " both have phandle "
                        + Integer.toUnsignedString(ph.get()));
            }
        }
        for (DtNode c : n.children()) {
            index(c);
        }
    }

    /** The root node. */
    public DtNode root() {
        return root;
    }

    /** The node at {@code path} ({@code /soc/uart@9000000}). */
    public Optional<DtNode> node(String path) {
        DtNode n = root;
        for (String part : path.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            Optional<DtNode> c = n.child(part);
            if (c.isEmpty()) {
                return Optional.empty();
            }
            n = c.get();
        }
        return Optional.of(n);
    }

    /** The node with phandle {@code phandle}. */
    public Optional<DtNode> byPhandle(int phandle) {
        return Optional.ofNullable(phandles.get(phandle));
    }

    /** Every node whose {@code compatible} lists {@code compatible}, in tree order. */
    public List<DtNode> compatible(String compatible) {
        List<DtNode> out = new ArrayList<>();
        collect(root, compatible, out);
        return out;
    }

    private static void collect(DtNode n, String compatible, List<DtNode> out) {
        if (n.strings("compatible").contains(compatible)) {
            out.add(n);
        }
        for (DtNode c : n.children()) {
            collect(c, compatible, out);
        }
    }

    /** Everything the tree says about device node {@code node}: see the class description. */
    public FirmwareDevice describe(DtNode node) {
        Map<String, byte[]> props = new LinkedHashMap<>();
        node.properties().forEach((k, v) -> {
            if (!HOST_PROPERTIES.contains(k)) {
                props.put(k, v);
            }
        });
        return new FirmwareDevice("device tree " + node.path(), node.strings("compatible"), regions(node),
                interrupts(node), props);
    }

    // ---------------------------------------------------------------------------------------------- reg and ranges

    /** The {@code reg} entries of {@code node}, translated to CPU addresses. */
    public List<FirmwareRegion> regions(DtNode node) {
        List<FirmwareRegion> out = new ArrayList<>();
        Optional<int[]> reg = node.cells("reg");
        if (reg.isEmpty()) {
            return out;
        }
        if (node.parent() == null) {
            throw new DeviceTreeException("/: the root node has a reg property");
        }
        int ac = addressCells(node.parent());
        int sc = sizeCells(node.parent());
        int[] cells = reg.get();
        if (ac == 0 || cells.length % (ac + sc) != 0) {
            throw new DeviceTreeException(String.format("%s: reg has %d cells, not a multiple of #address-cells %d "
                    + "+ #size-cells %d of %s", node.path(), cells.length, ac, sc, node.parent().path()));
        }
        for (int i = 0; i < cells.length / (ac + sc); i++) {
            BigInteger address = number(cells, i * (ac + sc), ac);
            BigInteger size = number(cells, i * (ac + sc) + ac, sc);
            BigInteger cpu = translate(node, i, address);
            if (cpu.bitLength() > 64 || size.bitLength() > 64) {
                throw new DeviceTreeException(String.format("%s: reg[%d] at 0x%x size 0x%x does not fit 64 bits",
                        node.path(), i, cpu, size));
            }
            out.add(new FirmwareRegion(i, cpu.longValue(), size.longValue(), false, false));
        }
        return out;
    }

    private BigInteger translate(DtNode node, int index, BigInteger address) {
        DtNode bus = node.parent();
        while (bus.parent() != null) {
            Optional<int[]> ranges = bus.cells("ranges");
            if (ranges.isEmpty()) {
                throw new DeviceTreeException(String.format("%s: reg[%d] (0x%x) can't be translated to a CPU "
                        + "address: %s has no ranges property", node.path(), index, address, bus.path()));
            }
            int[] r = ranges.get();
            if (r.length > 0) {
                int cac = addressCells(bus);
                int pac = addressCells(bus.parent());
                int csc = sizeCells(bus);
                int entry = cac + pac + csc;
                if (r.length % entry != 0) {
                    throw new DeviceTreeException(String.format("%s: ranges has %d cells, not a multiple of child "
                            + "#address-cells %d + parent #address-cells %d + #size-cells %d", bus.path(), r.length,
                            cac, pac, csc));
                }
                BigInteger mapped = null;
                for (int e = 0; e < r.length / entry; e++) {
                    BigInteger child = number(r, e * entry, cac);
                    BigInteger parent = number(r, e * entry + cac, pac);
                    BigInteger length = number(r, e * entry + cac + pac, csc);
                    if (address.compareTo(child) >= 0 && address.compareTo(child.add(length)) < 0) {
                        mapped = parent.add(address.subtract(child));
                        break;
                    }
                }
                if (mapped == null) {
                    throw new DeviceTreeException(String.format("%s: reg[%d] (0x%x) lies outside every entry of "
                            + "%s's ranges", node.path(), index, address, bus.path()));
                }
                address = mapped;
            }
            bus = bus.parent();
        }
        return address;
    }

    /** {@code #address-cells} of {@code bus} (2 when absent, as the specification says). */
    static int addressCells(DtNode bus) {
        int n = bus.u32("#address-cells").orElse(2);
        if (n < 0 || n > MAX_ADDRESS_CELLS) {
            throw new DeviceTreeException(bus.path() + ": #address-cells is " + Integer.toUnsignedString(n)
                    + "; at most " + MAX_ADDRESS_CELLS + " is supported");
        }
        return n;
    }

    /** {@code #size-cells} of {@code bus} (1 when absent). */
    static int sizeCells(DtNode bus) {
        int n = bus.u32("#size-cells").orElse(1);
        if (n < 0 || n > MAX_SIZE_CELLS) {
            throw new DeviceTreeException(bus.path() + ": #size-cells is " + Integer.toUnsignedString(n)
                    + "; at most " + MAX_SIZE_CELLS + " is supported");
        }
        return n;
    }

    private static BigInteger number(int[] cells, int from, int count) {
        BigInteger v = BigInteger.ZERO;
        for (int i = 0; i < count; i++) {
            v = v.shiftLeft(32).or(BigInteger.valueOf(Integer.toUnsignedLong(cells[from + i])));
        }
        return v;
    }

    // -------------------------------------------------------------------------------------------------- interrupts

    /** The interrupts of {@code node}, in index order. */
    public List<FirmwareIrq> interrupts(DtNode node) {
        List<FirmwareIrq> out = new ArrayList<>();
        Optional<int[]> extended = node.cells("interrupts-extended");
        if (extended.isPresent()) {
            int[] c = extended.get();
            int at = 0;
            while (at < c.length) {
                int index = out.size();
                int phandle = c[at];
                DtNode controller = byPhandle(phandle).orElseThrow(() -> new DeviceTreeException(String.format(
                        "%s: interrupts-extended[%d] names phandle %d, which no node has", node.path(), index,
                        Integer.toUnsignedLong(phandle))));
                int n = interruptCells(controller, node, index);
                if (at + 1 + n > c.length) {
                    throw new DeviceTreeException(String.format("%s: interrupts-extended[%d] needs %d cells for %s, "
                            + "only %d are left (truncated)", node.path(), index, n, controller.path(),
                            c.length - at - 1));
                }
                int[] spec = java.util.Arrays.copyOfRange(c, at + 1, at + 1 + n);
                out.add(decode(index, controller, spec));
                at += 1 + n;
            }
            return out;
        }
        Optional<int[]> plain = node.cells("interrupts");
        if (plain.isEmpty()) {
            return out;
        }
        DtNode controller = interruptParent(node);
        int n = interruptCells(controller, node, 0);
        int[] c = plain.get();
        if (n == 0 || c.length % n != 0) {
            throw new DeviceTreeException(String.format("%s: interrupts has %d cells, not a multiple of "
                    + "#interrupt-cells %d of %s (truncated?)", node.path(), c.length, n, controller.path()));
        }
        for (int i = 0; i < c.length / n; i++) {
            out.add(decode(i, controller, java.util.Arrays.copyOfRange(c, i * n, (i + 1) * n)));
        }
        return out;
    }

    /**
     * The controller {@code interrupts} refers to: from the node, follow {@code interrupt-parent} (or the parent
     * node when there is none) until a node with {@code #interrupt-cells}.
     */
    public DtNode interruptParent(DtNode node) {
        Set<DtNode> seen = new LinkedHashSet<>();
        DtNode n = node;
        while (true) {
            seen.add(n);
            Optional<Integer> ph = n.u32("interrupt-parent");
            DtNode next;
            if (ph.isPresent()) {
                DtNode from = n;
                next = byPhandle(ph.get()).orElseThrow(() -> new DeviceTreeException(String.format(
                        "%s: interrupt-parent names phandle %d, which no node has", from.path(),
                        Integer.toUnsignedLong(ph.get()))));
            } else {
                next = n.parent();
            }
            if (next == null) {
                throw new DeviceTreeException(node.path() + ": has interrupts but no interrupt controller (no "
                        + "interrupt-parent leads to a node with #interrupt-cells)");
            }
            if (next.has("#interrupt-cells")) {
                return next;
            }
            if (seen.contains(next)) {
                StringBuilder chain = new StringBuilder();
                for (DtNode s : seen) {
                    chain.append(s.path()).append(" -> ");
                }
                throw new DeviceTreeException(node.path() + ": loop in interrupt-parent: " + chain + next.path());
            }
            n = next;
        }
    }

    private static int interruptCells(DtNode controller, DtNode node, int index) {
        Optional<Integer> n = controller.u32("#interrupt-cells");
        if (n.isEmpty()) {
            throw new DeviceTreeException(String.format("%s: interrupt %d's controller %s has no #interrupt-cells",
                    node.path(), index, controller.path()));
        }
        if (n.get() < 1 || n.get() > 4) {
            throw new DeviceTreeException(String.format("%s: #interrupt-cells is %d (interrupt %d of %s)",
                    controller.path(), Integer.toUnsignedLong(n.get()), index, node.path()));
        }
        return n.get();
    }

    /**
     * Decodes a specifier: three cells are the GIC binding (type, number, flags; the number becomes the INTID:
     * SPI n is 32 + n, PPI n is 16 + n), two cells are number and flags, one cell is a number alone. Flags 1 and 2
     * are edges, 4 and 8 levels (the kernel's IRQ_TYPE_*).
     */
    static FirmwareIrq decode(int index, DtNode controller, int[] spec) {
        long number;
        int flags;
        String text;
        if (spec.length >= 3) {
            number = Integer.toUnsignedLong(spec[1]) + (spec[0] == 1 ? 16 : 32);
            flags = spec[2];
            text = (spec[0] == 1 ? "PPI " : "SPI ") + Integer.toUnsignedLong(spec[1]) + String.format(" flags 0x%x",
                    flags);
        } else if (spec.length == 2) {
            number = Integer.toUnsignedLong(spec[0]);
            flags = spec[1];
            text = number + String.format(" flags 0x%x", flags);
        } else {
            number = Integer.toUnsignedLong(spec[0]);
            flags = 0;
            text = String.valueOf(number);
        }
        Trigger t = switch (flags & 0xf) {
            case 1, 2, 3 -> Trigger.EDGE;
            case 4, 8 -> Trigger.LEVEL;
            default -> Trigger.UNKNOWN;
        };
        return new FirmwareIrq(index, number, t, controller.path(), text);
    }
}
