package org.vfio4j.refvmm.linux.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The laid-out tables parsed back the way an OS finds them: RSDP, then XSDT, then each table and the DSDT. */
class AcpiTablesTest {
    private final AcpiTables tables = AcpiTables.build(4);
    private final ByteBuffer image = ByteBuffer.wrap(tables.bytes()).order(ByteOrder.LITTLE_ENDIAN);

    private int off(long address) {
        return (int) (address - tables.base());
    }

    private String ascii(int offset, int length) {
        return new String(tables.bytes(), offset, length, StandardCharsets.US_ASCII);
    }

    /** Checks the header at {@code address} and returns the table length. */
    private int checkTable(long address, String signature, int revision) {
        int o = off(address);
        assertEquals(signature, ascii(o, 4));
        int length = image.getInt(o + 4);
        assertEquals(revision, image.get(o + 8));
        assertTrue(AcpiTable.sumsToZero(tables.bytes(), o, length), signature + " checksum");
        assertEquals("VFIO4J", ascii(o + 10, 6));
        assertEquals("REFVMM  ", ascii(o + 16, 8));
        assertEquals(0, address % 16, signature + " alignment");
        return length;
    }

    @Test
    void theRsdpComesFirstWithBothChecksumsAndPointsAtTheXsdt() {
        assertEquals(0xE0000L, tables.base());
        assertEquals(0xE0000L, tables.rsdpAddress());
        assertEquals("RSD PTR ", ascii(0, 8));
        assertTrue(AcpiTable.sumsToZero(tables.bytes(), 0, 20), "ACPI 1.0 checksum over 20 bytes");
        assertTrue(AcpiTable.sumsToZero(tables.bytes(), 0, 36), "extended checksum over 36 bytes");
        assertEquals(2, image.get(15), "revision 2: XSDT present");
        assertEquals(0, image.getInt(16), "no RSDT");
        assertEquals(36, image.getInt(20));
        assertEquals(tables.addresses().get("XSDT"), image.getLong(24));
        assertTrue(tables.addresses().values().stream().allMatch(a -> a >= 0xE0000L && a < 0x100000L));
    }

    @Test
    void theXsdtListsFadtMadtAndMcfg() {
        long xsdt = tables.addresses().get("XSDT");
        int length = checkTable(xsdt, "XSDT", 1);
        assertEquals(36 + 3 * 8, length);
        List<String> found = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long at = image.getLong(off(xsdt) + 36 + 8 * i);
            found.add(ascii(off(at), 4));
        }
        assertEquals(List.of("FACP", "APIC", "MCFG"), found);
    }

    @Test
    void theFadtIsHardwareReducedWithSleepAndResetRegisters() {
        long fadt = tables.addresses().get("FACP");
        assertEquals(276, checkTable(fadt, "FACP", 6));
        int o = off(fadt);
        assertEquals(tables.addresses().get("DSDT"), image.getLong(o + 140), "X_DSDT");
        assertEquals(0, image.getInt(o + 40), "32-bit DSDT left 0 when X_DSDT is set");
        int flags = image.getInt(o + 112);
        assertTrue((flags & 1 << 20) != 0, "HW_REDUCED_ACPI");
        assertTrue((flags & 1 << 10) != 0, "RESET_REG_SUP");
        int boot = image.getShort(o + 109);
        assertEquals(0, boot & 0x2, "no 8042");
        assertEquals(0, boot & 0x8, "MSI allowed");
        assertEquals(0x4 | 0x20, boot & 0x24, "no VGA, no CMOS RTC");
        assertGas(o + 116, 0x602);
        assertEquals(1, image.get(o + 128), "reset value");
        assertGas(o + 244, 0x600);
        assertGas(o + 256, 0x601);
        assertEquals(9, image.getShort(o + 46), "SCI_INT");
    }

    private void assertGas(int o, int port) {
        assertEquals(1, image.get(o), "system I/O");
        assertEquals(8, image.get(o + 1), "8 bits");
        assertEquals(1, image.get(o + 3), "byte access");
        assertEquals(port, image.getLong(o + 4));
    }

    @Test
    void theMadtHasOneEnabledLocalApicPerVcpuAndTheIoApic() {
        long madt = tables.addresses().get("APIC");
        int length = checkTable(madt, "APIC", 4);
        int o = off(madt);
        assertEquals(0xFEE00000, image.getInt(o + 36));
        assertEquals(1, image.getInt(o + 40), "PCAT_COMPAT");
        int p = o + 44;
        for (int i = 0; i < 4; i++) {
            assertEquals(0, image.get(p), "type: local APIC");
            assertEquals(8, image.get(p + 1));
            assertEquals(i, image.get(p + 2), "processor UID");
            assertEquals(i, image.get(p + 3), "APIC id");
            assertEquals(1, image.getInt(p + 4), "enabled");
            p += 8;
        }
        assertEquals(1, image.get(p), "type: IO-APIC");
        assertEquals(12, image.get(p + 1));
        assertEquals(4, image.get(p + 2), "IO-APIC id = vCPU count");
        assertEquals(0xFEC00000, image.getInt(p + 4));
        assertEquals(0, image.getInt(p + 8), "GSI base");
        assertEquals(o + length, p + 12, "nothing else, no overrides");
    }

    @Test
    void theMcfgHasOneAllocationForAllBuses() {
        long mcfg = tables.addresses().get("MCFG");
        assertEquals(60, checkTable(mcfg, "MCFG", 1));
        int o = off(mcfg);
        assertEquals(0xB000_0000L, image.getLong(o + 44));
        assertEquals(0, image.getShort(o + 52));
        assertEquals(0, image.get(o + 54));
        assertEquals(0xFF, image.get(o + 55) & 0xFF);
    }

    @Test
    void theDsdtIsLastAndChecksummed() {
        long dsdt = tables.addresses().get("DSDT");
        int length = checkTable(dsdt, "DSDT", 2);
        assertEquals(tables.bytes().length, off(dsdt) + length, "the image ends with the DSDT");
        assertArrayEquals(Dsdt.build(AcpiConfig.standard(4)), tables.table("DSDT"));
    }

    @Test
    void tablesThatDoNotFitBelowOneMegabyteAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AcpiTables.build(0xFF800, AcpiConfig.standard(8)));
        assertTrue(e.getMessage().contains("1 MiB"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AcpiTables.build(0xE0008, AcpiConfig.standard(1)));
        AcpiTables most = AcpiTables.build(AcpiConfig.MAX_VCPUS);
        assertTrue(most.base() + most.bytes().length <= AcpiTables.LIMIT);
        assertThrows(IllegalArgumentException.class, () -> AcpiConfig.standard(AcpiConfig.MAX_VCPUS + 1));
    }
}
