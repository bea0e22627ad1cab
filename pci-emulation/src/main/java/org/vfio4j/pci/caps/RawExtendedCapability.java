package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigSpace;

/** An extended capability given as bytes after its four-byte header, with an RW mask for them. */
public final class RawExtendedCapability implements ExtendedCapability {
    private final int id;
    private final int version;
    private final RawBody body;

    /**
     * @param id       16-bit extended capability id
     * @param version  4-bit version
     * @param body     bytes 4.. of the capability; its length must make the total a multiple of 4
     * @param writable RW mask for {@code body}, same length; {@code null} for all read-only
     */
    public RawExtendedCapability(int id, int version, byte[] body, byte[] writable) {
        if (id < 0 || id > 0xFFFF || version < 0 || version > 0xF) {
            throw new IllegalArgumentException("extended capability id 0x" + Integer.toHexString(id) + " version "
                    + version + " out of range");
        }
        if ((body.length & 3) != 0) {
            throw new IllegalArgumentException("extended capability body must be whole dwords: " + body.length);
        }
        this.id = id;
        this.version = version;
        this.body = new RawBody(body, writable);
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public int version() {
        return version;
    }

    @Override
    public int length() {
        return 4 + body.length();
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        body.install(cs, offset + 4);
    }
}
