package org.vfio4j.vfio.platform;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One node of a device tree: its name (with the unit address, {@code uart@9000000}), its properties as raw
 * big-endian bytes in the order the tree gives them, its children and its parent. Built by {@link Fdt} from a
 * flattened tree or by {@link DeviceTree#fromDirectory} from the kernel's live tree.
 */
public final class DtNode {
    private final String name;
    private final DtNode parent;
    private final Map<String, byte[]> properties = new LinkedHashMap<>();
    private final List<DtNode> children = new ArrayList<>();

    DtNode(String name, DtNode parent) {
        this.name = name;
        this.parent = parent;
        if (parent != null) {
            parent.children.add(this);
        }
    }

    /** The node name with its unit address; empty for the root. */
    public String name() {
        return name;
    }

    /** The parent; null for the root. */
    public DtNode parent() {
        return parent;
    }

    /** The full path, {@code /} for the root. */
    public String path() {
        if (parent == null) {
            return "/";
        }
        String p = parent.path();
        return (p.equals("/") ? "" : p) + "/" + name;
    }

    /** The children in tree order. */
    public List<DtNode> children() {
        return Collections.unmodifiableList(children);
    }

    /** The child named {@code childName} (with its unit address), if any. */
    public Optional<DtNode> child(String childName) {
        return children.stream().filter(c -> c.name.equals(childName)).findFirst();
    }

    /** The properties by name, in tree order (values are not copied: don't change them). */
    public Map<String, byte[]> properties() {
        return Collections.unmodifiableMap(properties);
    }

    void put(String property, byte[] value) {
        properties.put(property, value);
    }

    /** The raw value of {@code property}, if present. */
    public Optional<byte[]> property(String property) {
        return Optional.ofNullable(properties.get(property));
    }

    /** True when the node has {@code property} (an empty one counts). */
    public boolean has(String property) {
        return properties.containsKey(property);
    }

    /**
     * The property as big-endian 32-bit cells.
     *
     * @throws DeviceTreeException when its length is not a multiple of 4 (a truncated property)
     */
    public Optional<int[]> cells(String property) {
        byte[] v = properties.get(property);
        if (v == null) {
            return Optional.empty();
        }
        if (v.length % 4 != 0) {
            throw new DeviceTreeException(path() + ": property " + property + " is " + v.length
                    + " bytes, not a whole number of 32-bit cells (truncated?)");
        }
        int[] out = new int[v.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = (v[4 * i] & 0xff) << 24 | (v[4 * i + 1] & 0xff) << 16 | (v[4 * i + 2] & 0xff) << 8
                    | (v[4 * i + 3] & 0xff);
        }
        return Optional.of(out);
    }

    /**
     * The property as one 32-bit cell.
     *
     * @throws DeviceTreeException when it is present but not exactly 4 bytes
     */
    public Optional<Integer> u32(String property) {
        Optional<int[]> c = cells(property);
        if (c.isPresent() && c.get().length != 1) {
            throw new DeviceTreeException(path() + ": property " + property + " must be one 32-bit cell, is "
                    + c.get().length + " cells");
        }
        return c.map(a -> a[0]);
    }

    /** The property as a list of NUL-terminated strings ({@code compatible}); empty when absent. */
    public List<String> strings(String property) {
        byte[] v = properties.get(property);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        int start = 0;
        for (int i = 0; i < v.length; i++) {
            if (v[i] == 0) {
                out.add(new String(v, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start < v.length) {
            out.add(new String(v, start, v.length - start, StandardCharsets.UTF_8));
        }
        return out;
    }

    @Override
    public String toString() {
        return path();
    }
}
