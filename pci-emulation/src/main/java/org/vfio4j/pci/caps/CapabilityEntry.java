package org.vfio4j.pci.caps;

/** A capability found in a config space's chains: where it is and how many bytes it spans. */
public sealed interface CapabilityEntry {

    /** The capability id. */
    int id();

    /** Offset of the capability header in config space. */
    int offset();

    /** Bytes the capability spans, including its header. */
    int length();

    /**
     * A capability of the standard list.
     *
     * @param id     capability id
     * @param offset header offset (0x40..0xFC)
     * @param length bytes spanned
     */
    record Standard(int id, int offset, int length) implements CapabilityEntry {
        @Override
        public String toString() {
            return String.format("cap 0x%02x @0x%02x+%d", id, offset, length);
        }
    }

    /**
     * A capability of the extended list.
     *
     * @param id      extended capability id
     * @param version capability version
     * @param offset  header offset (0x100..0xFFC)
     * @param length  bytes spanned
     */
    record Extended(int id, int version, int offset, int length) implements CapabilityEntry {
        @Override
        public String toString() {
            return String.format("ext cap 0x%04x v%d @0x%03x+%d", id, version, offset, length);
        }
    }
}
