package org.vfio4j.vfio.caps;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One capability found in an INFO chain, undecoded: its id and version from {@code struct vfio_info_cap_header}, where
 * it sat in the info buffer, and its bytes including the 8-byte header. The bytes run to the next capability, or to
 * the end of the buffer for the last one (the uAPI does not carry a capability's length).
 */
public record RawCapability(int id, int version, int offset, byte[] bytes) {

    /** Copies {@code bytes} so the record stays immutable. */
    public RawCapability {
        bytes = bytes.clone();
    }

    /** The bytes, copied. */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The number of bytes, header included. */
    public int length() {
        return bytes.length;
    }

    /** A little-endian read-only view of the bytes, position 0 at the header. */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(bytes).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawCapability r && r.id == id && r.version == version && r.offset == offset
                && Arrays.equals(r.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return (id * 31 + version) * 31 + offset + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return String.format("cap id %d v%d at 0x%x (%d bytes)", id, version, offset, bytes.length);
    }
}
