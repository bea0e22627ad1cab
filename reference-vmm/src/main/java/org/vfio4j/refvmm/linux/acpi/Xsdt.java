package org.vfio4j.refvmm.linux.acpi;

import java.nio.ByteBuffer;
import java.util.List;

/** The Extended System Description Table: 64-bit addresses of the other tables (all but the DSDT and FACS). */
public final class Xsdt {
    private Xsdt() {
    }

    /** The XSDT listing {@code tableAddresses} in order. */
    public static byte[] build(List<Long> tableAddresses) {
        ByteBuffer b = AcpiTable.body(8 * tableAddresses.size());
        tableAddresses.forEach(b::putLong);
        return AcpiTable.of("XSDT", 1, b.array());
    }
}
