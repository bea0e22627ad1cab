package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigSpace;

/** An extended capability given as bytes after its four-byte header, with an RW mask for them. */
public final class RawExtendedCapability implements ExtendedCapability {
    private final int id;
    private final int version;
    private final byte[] body;
    private final byte[] writable;

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
        if (writable != null && writable.length != body.length) {
            throw new IllegalArgumentException("writable mask length " + writable.length + " != body " + body.length);
        }
        this.id = id;
        this.version = version;
        this.body = body.clone();
        this.writable = writable == null ? new byte[body.length] : writable.clone();
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
        return 4 + body.length;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        cs.setBytes(offset + 4, body);
        for (int i = 0; i < writable.length; i++) {
            cs.setWritable(offset + 4 + i, 1, writable[i] & 0xFF);
        }
    }
}
