package org.vfio4j.pci.config;

/** The two configuration space sizes a PCI function can have. */
public enum ConfigSpaceSize {
    /** Conventional PCI: the 64-byte header plus 192 bytes of capabilities. */
    CONVENTIONAL(256),
    /** PCI Express: the conventional 256 bytes plus extended capabilities from 0x100 to 0xFFF. */
    EXTENDED(4096);

    private final int bytes;

    ConfigSpaceSize(int bytes) {
        this.bytes = bytes;
    }

    /** Size in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The size whose byte count is {@code bytes}; rejects any other length. */
    public static ConfigSpaceSize ofLength(int bytes) {
        for (ConfigSpaceSize s : values()) {
            if (s.bytes == bytes) {
                return s;
            }
        }
        throw new IllegalArgumentException("a config space is 256 or 4096 bytes, not " + bytes);
    }
}
