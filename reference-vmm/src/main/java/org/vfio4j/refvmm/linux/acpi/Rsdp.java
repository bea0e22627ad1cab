package org.vfio4j.refvmm.linux.acpi;

import java.nio.ByteBuffer;

/**
 * The Root System Description Pointer, ACPI 2.0+ form (36 bytes, revision 2): points at the XSDT only (the 32-bit
 * RSDT address is 0). The first checksum covers the first 20 bytes, the extended checksum all 36.
 */
public final class Rsdp {
    /** Length of a revision 2 RSDP. */
    public static final int LENGTH = 36;
    /** The signature, "RSD PTR " with its trailing space. */
    public static final String SIGNATURE = "RSD PTR ";

    private Rsdp() {
    }

    /** The RSDP for an XSDT at {@code xsdtAddress}. */
    public static byte[] build(long xsdtAddress) {
        ByteBuffer b = AcpiTable.body(LENGTH);
        b.put(AcpiTable.ascii(SIGNATURE, 8));
        b.put((byte) 0); // checksum
        b.put(AcpiTable.ascii(AcpiTable.OEM_ID, 6));
        b.put((byte) 2); // revision: ACPI 2.0+
        b.putInt(0); // RSDT address: none, XSDT only
        b.putInt(LENGTH);
        b.putLong(xsdtAddress);
        b.put((byte) 0); // extended checksum
        byte[] out = b.array();
        out[8] = AcpiTable.checksum(out, 0, 20);
        out[32] = AcpiTable.checksum(out, 0, LENGTH);
        return out;
    }
}
