package org.vfio4j.vfio.caps;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.vfio4j.vfio.uapi.VfioLayouts.CapHeader;

/**
 * The one walker for the capability chains of VFIO INFO ioctls (device, region and IOMMU info). Offsets, both the
 * first one and each header's {@code next}, are relative to the start of the info buffer; 0 ends the chain.
 *
 * <p>The walker trusts nothing: an offset inside the fixed struct or past the buffer, an offset that isn't 4-byte
 * aligned (the kernel aligns every capability to 8), or a {@code next} that revisits a capability ends the walk with a
 * problem recorded instead of an exception or a hang. What was read before the fault is kept.
 *
 * @param capabilities the capabilities in chain order
 * @param problems why the walk stopped early, one line each; empty for a well-formed chain
 */
public record CapabilityChain(List<RawCapability> capabilities, List<String> problems) {

    /** Alignment every capability offset must have; the kernel uses 8, 4 is what the header fields need. */
    private static final int MIN_ALIGN = 4;

    /** Copies the lists. */
    public CapabilityChain {
        capabilities = List.copyOf(capabilities);
        problems = List.copyOf(problems);
    }

    /** The empty chain. */
    public static CapabilityChain empty() {
        return new CapabilityChain(List.of(), List.of());
    }

    /**
     * Walks the chain in {@code info}.
     *
     * @param info the whole info buffer as the kernel filled it (only the first {@code limit} bytes are valid)
     * @param limit how many bytes of {@code info} are valid (the argsz the buffer was queried with)
     * @param fixedSize sizeof the fixed info struct; capabilities can only start at or after it
     * @param firstOffset the struct's {@code cap_offset} field
     */
    public static CapabilityChain walk(byte[] info, int limit, int fixedSize, long firstOffset) {
        int end = Math.min(limit, info.length);
        ByteBuffer buf = ByteBuffer.wrap(info, 0, end).order(ByteOrder.LITTLE_ENDIAN);
        List<RawCapability> caps = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        BitSet visited = new BitSet(end);
        long offset = firstOffset;
        while (offset != 0) {
            String fault = check(offset, end, fixedSize, visited);
            if (fault != null) {
                problems.add(String.format("capability at offset 0x%x %s; chain cut after %d capabilities",
                        offset, fault, caps.size()));
                break;
            }
            int at = (int) offset;
            visited.set(at);
            int id = Short.toUnsignedInt(buf.getShort(at + CapHeader.ID));
            int version = Short.toUnsignedInt(buf.getShort(at + CapHeader.VERSION));
            long next = Integer.toUnsignedLong(buf.getInt(at + CapHeader.NEXT));
            // A capability runs to the next one when that lies after it, otherwise to the end of the buffer.
            int capEnd = next > at && next <= end ? (int) next : end;
            byte[] bytes = new byte[capEnd - at];
            System.arraycopy(info, at, bytes, 0, bytes.length);
            caps.add(new RawCapability(id, version, at, bytes));
            offset = next;
        }
        return new CapabilityChain(caps, problems);
    }

    private static String check(long offset, int end, int fixedSize, BitSet visited) {
        if (offset < fixedSize) {
            return "points into the fixed info struct (size " + fixedSize + ")";
        }
        if (offset > end - CapHeader.SIZE) {
            return "lies outside the " + end + "-byte info buffer";
        }
        if (offset % MIN_ALIGN != 0) {
            return "is misaligned";
        }
        if (visited.get((int) offset)) {
            return "was already visited (loop)";
        }
        return null;
    }

    /** The first capability with {@code id}, or null. */
    public RawCapability find(int id) {
        for (RawCapability c : capabilities) {
            if (c.id() == id) {
                return c;
            }
        }
        return null;
    }
}
