package org.vfio4j.refvmm.linux.acpi;

import java.nio.ByteBuffer;

/**
 * The Multiple APIC Description Table: the local APIC address, PCAT_COMPAT (8259 PICs present), one enabled
 * Processor Local APIC entry per vCPU (processor UID and APIC id = vCPU index) and one IO-APIC entry (GSI base 0).
 * No interrupt source overrides: KVM's in-kernel routing is the identity (IRQ i = GSI i = IO-APIC pin i),
 * including the PIT on IRQ 0.
 */
public final class Madt {
    /** MADT flag: the system also has dual 8259 PICs. */
    public static final int PCAT_COMPAT = 1;
    /** Entry type of a Processor Local APIC. */
    public static final int TYPE_LOCAL_APIC = 0;
    /** Entry type of an I/O APIC. */
    public static final int TYPE_IO_APIC = 1;
    /** Local APIC flag: enabled. */
    public static final int LAPIC_ENABLED = 1;

    private Madt() {
    }

    /** The MADT for {@code config}. */
    public static byte[] build(AcpiConfig config) {
        ByteBuffer b = AcpiTable.body(8 + 8 * config.vcpus() + 12);
        b.putInt((int) config.localApicAddress());
        b.putInt(PCAT_COMPAT);
        for (int i = 0; i < config.vcpus(); i++) {
            b.put((byte) TYPE_LOCAL_APIC).put((byte) 8).put((byte) i).put((byte) i).putInt(LAPIC_ENABLED);
        }
        b.put((byte) TYPE_IO_APIC).put((byte) 12).put((byte) config.ioApicId()).put((byte) 0);
        b.putInt((int) config.ioApicAddress());
        b.putInt(0); // GSI base
        return AcpiTable.of("APIC", 4, b.array());
    }
}
