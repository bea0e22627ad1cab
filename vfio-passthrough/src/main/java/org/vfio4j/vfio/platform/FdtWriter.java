package org.vfio4j.vfio.platform;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes flattened device trees (DTB, version 17): {@link #beginNode}, {@link #property}, {@link #endNode},
 * {@link #finish}. {@link #overlay} writes a passed-through platform device as a device-tree overlay, the way an
 * arm VMM (crosvm) adds such a device to the guest's tree.
 */
public final class FdtWriter {
    private final ByteArrayOutputStream struct = new ByteArrayOutputStream();
    private final ByteArrayOutputStream strings = new ByteArrayOutputStream();
    private final Map<String, Integer> stringOffsets = new LinkedHashMap<>();
    private int depth;

    /** Opens a node; the first is the root, with the empty name. */
    public FdtWriter beginNode(String name) {
        word(Fdt.BEGIN_NODE);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        struct.writeBytes(n);
        struct.write(0);
        pad();
        depth++;
        return this;
    }

    /** A property with raw bytes. */
    public FdtWriter property(String name, byte[] value) {
        if (depth == 0) {
            throw new IllegalStateException("property " + name + " outside a node");
        }
        word(Fdt.PROP);
        word(value.length);
        word(stringOffsets.computeIfAbsent(name, k -> {
            int at = strings.size();
            strings.writeBytes(k.getBytes(StandardCharsets.UTF_8));
            strings.write(0);
            return at;
        }));
        struct.writeBytes(value);
        pad();
        return this;
    }

    /** A property of 32-bit cells. */
    public FdtWriter property(String name, int... cells) {
        ByteBuffer b = ByteBuffer.allocate(4 * cells.length).order(ByteOrder.BIG_ENDIAN);
        for (int c : cells) {
            b.putInt(c);
        }
        return property(name, b.array());
    }

    /** A string-list property ({@code compatible}). */
    public FdtWriter property(String name, List<String> values) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (String v : values) {
            o.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            o.write(0);
        }
        return property(name, o.toByteArray());
    }

    /** A string property. */
    public FdtWriter property(String name, String value) {
        return property(name, List.of(value));
    }

    /** Closes the innermost node. */
    public FdtWriter endNode() {
        if (depth == 0) {
            throw new IllegalStateException("no node is open");
        }
        word(Fdt.END_NODE);
        depth--;
        return this;
    }

    /** The blob: header, an empty memory reservation map, the structure and the strings. */
    public byte[] finish() {
        if (depth != 0) {
            throw new IllegalStateException(depth + " nodes are still open");
        }
        word(Fdt.END);
        int rsvOff = Fdt.HEADER_SIZE;
        int structOff = rsvOff + 16;
        int stringsOff = structOff + struct.size();
        int total = stringsOff + strings.size();
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.BIG_ENDIAN);
        b.putInt(Fdt.MAGIC).putInt(total).putInt(structOff).putInt(stringsOff).putInt(rsvOff).putInt(17)
                .putInt(16).putInt(0).putInt(strings.size()).putInt(struct.size());
        b.putLong(0).putLong(0);
        b.put(struct.toByteArray());
        b.put(strings.toByteArray());
        return b.array();
    }

    private void word(int v) {
        struct.write(v >>> 24);
        struct.write(v >>> 16);
        struct.write(v >>> 8);
        struct.write(v);
    }

    private void pad() {
        while (struct.size() % 4 != 0) {
            struct.write(0);
        }
    }

    /** How the guest's interrupt controller numbers interrupts in the {@code interrupts} property. */
    public enum InterruptCells {
        /** The arm GIC binding, three cells: 0 (SPI), INTID - 32, flags (1 edge rising, 4 level high). */
        GIC,
        /** Two cells: the number, flags. */
        TWO
    }

    /**
     * A device-tree overlay that adds the device to the guest's root node: {@code fragment@0} with
     * {@code target-path = "/"} and an {@code __overlay__} holding {@code <nodeName>@<first guest address>} with the
     * {@code compatible} strings, {@code reg} in two address and two size cells per region (the root cells of QEMU's
     * and crosvm's arm trees), {@code interrupts} in the guest controller's encoding, {@code interrupt-parent} when
     * {@code interruptParent} is not 0, and the host node's other properties.
     */
    public static byte[] overlay(PlatformGuestDescription d, String nodeName, InterruptCells cells,
            int interruptParent) {
        FdtWriter w = new FdtWriter();
        w.beginNode("");
        w.beginNode("fragment@0");
        w.property("target-path", "/");
        w.beginNode("__overlay__");
        long unit = d.regions().isEmpty() ? 0 : d.regions().get(0).guestAddress();
        w.beginNode(nodeName + "@" + Long.toHexString(unit));
        if (!d.compatible().isEmpty()) {
            w.property("compatible", d.compatible());
        }
        List<Integer> reg = new ArrayList<>();
        for (GuestRegion r : d.regions()) {
            reg.add((int) (r.guestAddress() >>> 32));
            reg.add((int) r.guestAddress());
            reg.add((int) (r.size() >>> 32));
            reg.add((int) r.size());
        }
        if (!reg.isEmpty()) {
            w.property("reg", reg.stream().mapToInt(Integer::intValue).toArray());
        }
        if (!d.irqs().isEmpty()) {
            List<Integer> irq = new ArrayList<>();
            for (GuestIrq q : d.irqs()) {
                int flags = q.trigger() == Trigger.LEVEL ? 4 : 1;
                if (cells == InterruptCells.GIC) {
                    if (q.guestIrq() < 32) {
                        throw new IllegalArgumentException(d.name() + " irq " + q.index() + ": guest INTID "
                                + q.guestIrq() + " is not an SPI (32 and up)");
                    }
                    irq.add(0);
                    irq.add(q.guestIrq() - 32);
                } else {
                    irq.add(q.guestIrq());
                }
                irq.add(flags);
            }
            w.property("interrupts", irq.stream().mapToInt(Integer::intValue).toArray());
            if (interruptParent != 0) {
                w.property("interrupt-parent", interruptParent);
            }
        }
        for (Map.Entry<String, byte[]> p : d.properties().entrySet()) {
            if (!p.getKey().equals("compatible")) {
                w.property(p.getKey(), p.getValue());
            }
        }
        w.endNode().endNode().endNode().endNode();
        return w.finish();
    }
}
