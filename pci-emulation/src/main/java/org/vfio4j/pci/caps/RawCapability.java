package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigSpace;

/**
 * A standard capability given as bytes: its registers after the two-byte header, and which of their bits the guest
 * may write. For copying a capability from another function or emulating one this library has no model for.
 */
public final class RawCapability implements Capability {
    private final int id;
    private final RawBody body;

    /**
     * @param id       capability id
     * @param body     bytes 2.. of the capability
     * @param writable RW mask for {@code body}, same length; {@code null} for all read-only
     */
    public RawCapability(int id, byte[] body, byte[] writable) {
        if (id < 0 || id > 0xFF) {
            throw new IllegalArgumentException("capability id is a byte: " + id);
        }
        this.id = id;
        this.body = new RawBody(body, writable);
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public int length() {
        return 2 + body.length();
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        body.install(cs, offset + 2);
    }

    @Override
    public String toString() {
        return "RawCapability[id=0x" + Integer.toHexString(id) + ", body=" + body + "]";
    }
}
