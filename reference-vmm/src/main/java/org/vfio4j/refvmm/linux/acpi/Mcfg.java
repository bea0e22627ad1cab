package org.vfio4j.refvmm.linux.acpi;

import java.nio.ByteBuffer;

/** The PCI Express memory-mapped configuration table: one ECAM allocation for segment 0. */
public final class Mcfg {
    private Mcfg() {
    }

    /** The MCFG for ECAM at {@code base} decoding buses 0..{@code buses - 1} of segment 0. */
    public static byte[] build(long base, int buses) {
        ByteBuffer b = AcpiTable.body(8 + 16);
        b.putLong(0); // reserved
        b.putLong(base);
        b.putShort((short) 0); // PCI segment group
        b.put((byte) 0); // start bus
        b.put((byte) (buses - 1)); // end bus
        b.putInt(0); // reserved
        return AcpiTable.of("MCFG", 1, b.array());
    }
}
