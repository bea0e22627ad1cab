package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigSpace;

/**
 * The part standard and extended raw capabilities share: a body of bytes after the header, with a per-bit writable
 * mask of the same length (all read-only when none is given).
 */
final class RawBody {
    private final byte[] body;
    private final byte[] writable;

    RawBody(byte[] body, byte[] writable) {
        if (writable != null && writable.length != body.length) {
            throw new IllegalArgumentException("writable mask length " + writable.length + " != body " + body.length);
        }
        this.body = body.clone();
        this.writable = writable == null ? new byte[body.length] : writable.clone();
    }

    int length() {
        return body.length;
    }

    /** The body bytes, as {@link java.util.Arrays#toString(byte[])} prints them. */
    @Override
    public String toString() {
        return java.util.Arrays.toString(body);
    }

    /** Writes the body at {@code at} (right after the header) and marks its writable bits. */
    void install(ConfigSpace cs, int at) {
        cs.setBytes(at, body);
        for (int i = 0; i < writable.length; i++) {
            cs.setWritable(at + i, 1, writable[i] & 0xFF);
        }
    }
}
