package org.vfio4j.pci.caps;

import java.util.Arrays;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * A standard capability given as bytes: its registers after the two-byte header, and which of their bits the guest
 * may write. For copying a capability from another function or emulating one this library has no model for.
 */
public final class RawCapability implements Capability {
    private final int id;
    private final byte[] body;
    private final byte[] writable;

    /**
     * @param id       capability id
     * @param body     bytes 2.. of the capability
     * @param writable RW mask for {@code body}, same length; {@code null} for all read-only
     */
    public RawCapability(int id, byte[] body, byte[] writable) {
        if (id < 0 || id > 0xFF) {
            throw new IllegalArgumentException("capability id is a byte: " + id);
        }
        if (writable != null && writable.length != body.length) {
            throw new IllegalArgumentException("writable mask length " + writable.length + " != body " + body.length);
        }
        this.id = id;
        this.body = body.clone();
        this.writable = writable == null ? new byte[body.length] : writable.clone();
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public int length() {
        return 2 + body.length;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        cs.setBytes(offset + 2, body);
        for (int i = 0; i < writable.length; i++) {
            cs.setWritable(offset + 2 + i, 1, writable[i] & 0xFF);
        }
    }

    @Override
    public String toString() {
        return "RawCapability[id=0x" + Integer.toHexString(id) + ", body=" + Arrays.toString(body) + "]";
    }
}
