package org.vfio4j.refvmm.linux.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.refvmm.linux.pci.IntxRouting;

/**
 * Our tables checked against ACPICA, the reference implementation: {@code iasl -d} must decode each one without
 * complaint and show the intended content, and compiling the disassembly back with {@code iasl} must give our bytes
 * (apart from the fields iasl always rewrites: the header checksum and the compiler id and revision, and the
 * ResourceTemplate EndTag checksums, which iasl leaves 0).
 */
class IaslDisassemblyTest {
    private static final int VCPUS = 3;
    private final AcpiTables tables = AcpiTables.build(VCPUS);
    @TempDir
    Path dir;

    @Test
    void theDsdtDisassemblesToTheHostBridgeComAndS5() throws Exception {
        String dsl = Iasl.disassemble(dir, "dsdt", tables.table("DSDT")).dsl();
        assertTrue(dsl.contains("DefinitionBlock (\"\", \"DSDT\", 2, \"VFIO4J\", \"REFVMM  \", 0x00000001)"), dsl);
        assertContainsInOrder(dsl,
                "Scope (\\_SB)",
                "Device (PCI0)",
                "Name (_HID, EisaId (\"PNP0A08\")",
                "Name (_CID, EisaId (\"PNP0A03\")",
                "Name (_SEG, Zero)",
                "Name (_BBN, Zero)",
                "Name (_UID, Zero)",
                "Name (_CRS, ResourceTemplate ()",
                "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,",
                "0x0000,             // Range Minimum", "0x00FF,             // Range Maximum",
                "IO (Decode16,", "0x0CF8,             // Range Minimum", "0x08,               // Length",
                "WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,",
                "0x0000,             // Range Minimum", "0x0CF7,             // Range Maximum",
                "WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,",
                "0x0D00,             // Range Minimum", "0xFFFF,             // Range Maximum",
                "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
                "0xC0000000,         // Range Minimum", "0xFEBFFFFF,         // Range Maximum",
                "QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,",
                "0x0000004000000000, // Range Minimum", "0x0000007FFFFFFFFF, // Range Maximum",
                "Name (_PRT, Package (0x80)",
                "Device (MRES)", "EisaId (\"PNP0C02\")",
                "DWordMemory (ResourceConsumer,", "0xB0000000,         // Range Minimum",
                "0xBFFFFFFF,         // Range Maximum",
                "Device (COM1)", "EisaId (\"PNP0501\")", "0x03F8,             // Range Minimum",
                "IRQNoFlags ()", "{4}",
                "Name (\\_S5, Package (0x04)");
        assertEquals(128, prtEntries(dsl).size());
        for (int[] e : prtEntries(dsl)) {
            int slot = e[0] >>> 16;
            assertEquals(0xFFFF, e[0] & 0xFFFF, "any function of the slot");
            assertEquals(0, e[2], "source 0: a GSI");
            assertEquals(IntxRouting.gsi(slot, e[1] + 1), e[3], "slot " + slot + " pin " + e[1]);
        }
        Matcher s5 = Pattern.compile("Name \\(\\\\_S5, Package \\(0x04\\)[^{]*\\{\\s*0x05,\\s*Zero,\\s*Zero,\\s*Zero")
                .matcher(dsl);
        assertTrue(s5.find(), "S5 package {5, 0, 0, 0}");
    }

    @Test
    void theDsdtRecompilesToOurAml() throws Exception {
        byte[] ours = tables.table("DSDT");
        String dsl = Iasl.disassemble(dir, "dsdt", ours).dsl();
        byte[] theirs = Iasl.compile(dir, "dsdt", "dsl", dsl, "-oa"); // -oa: no namepath optimization
        assertEquals(ours.length, theirs.length);
        assertArrayEquals(Arrays.copyOf(ours, 28), withHeaderChecksum(Arrays.copyOf(theirs, 28), ours[9]));
        List<Integer> differ = new ArrayList<>();
        for (int i = AcpiTable.HEADER_LENGTH; i < ours.length; i++) {
            if (ours[i] != theirs[i]) {
                differ.add(i);
                assertEquals(0x79, ours[i - 1] & 0xFF, "only EndTag checksums may differ, not byte " + i);
                assertEquals(0, theirs[i], "iasl leaves EndTag checksums 0");
            }
        }
        assertEquals(3, differ.size(), "one EndTag checksum per _CRS");
    }

    @Test
    void theFadtDecodesAsHardwareReducedRevisionSix() throws Exception {
        String dsl = Iasl.disassemble(dir, "facp", tables.table("FACP")).dsl();
        assertContainsInOrder(dsl,
                "Signature : \"FACP\"", "Table Length : 00000114", "Revision : 06",
                "SCI Interrupt : 0009",
                "Boot Flags (decoded below) : 0034",
                "8042 Present on ports 60/64 (V2) : 0",
                "VGA Not Present (V4) : 1",
                "MSI Not Supported (V4) : 0",
                "CMOS RTC Not Present (V5) : 1",
                "Reset Register Supported (V2) : 1",
                "Hardware Reduced (V5) : 1",
                "Reset Register : [Generic Address Structure]", "Space ID : 01 [SystemIO]", "Bit Width : 08",
                "Address : 0000000000000602",
                "Value to cause reset : 01",
                "DSDT Address : " + String.format("%016X", tables.addresses().get("DSDT")),
                "Sleep Control Register : [Generic Address Structure]", "Space ID : 01 [SystemIO]",
                "Address : 0000000000000600",
                "Sleep Status Register : [Generic Address Structure]", "Space ID : 01 [SystemIO]",
                "Address : 0000000000000601");
        assertRecompiles("facp", dsl, tables.table("FACP"));
    }

    @Test
    void theMadtDecodesToLocalApicsAndTheIoApic() throws Exception {
        String dsl = Iasl.disassemble(dir, "apic", tables.table("APIC")).dsl();
        assertContainsInOrder(dsl, "Signature : \"APIC\"", "Local Apic Address : FEE00000",
                "PC-AT Compatibility : 1");
        List<String> order = new ArrayList<>();
        for (int i = 0; i < VCPUS; i++) {
            order.addAll(List.of("Subtable Type : 00 [Processor Local APIC]",
                    String.format("Processor ID : %02X", i), String.format("Local Apic ID : %02X", i),
                    "Processor Enabled : 1"));
        }
        order.addAll(List.of("Subtable Type : 01 [I/O APIC]", String.format("I/O Apic ID : %02X", VCPUS),
                "Address : FEC00000", "Interrupt : 00000000"));
        assertContainsInOrder(dsl, order.toArray(String[]::new));
        assertEquals(VCPUS, count(dsl, "[Processor Local APIC]"));
        assertEquals(VCPUS + 1, count(dsl, "Subtable Type"), "no other subtables (no overrides)");
        assertRecompiles("apic", dsl, tables.table("APIC"));
    }

    @Test
    void theMcfgAndXsdtDecode() throws Exception {
        String mcfg = Iasl.disassemble(dir, "mcfg", tables.table("MCFG")).dsl();
        assertContainsInOrder(mcfg, "Signature : \"MCFG\"", "Base Address : 00000000B0000000",
                "Segment Group Number : 0000", "Start Bus Number : 00", "End Bus Number : FF");
        assertRecompiles("mcfg", mcfg, tables.table("MCFG"));
        String xsdt = Iasl.disassemble(dir, "xsdt", tables.table("XSDT")).dsl();
        assertContainsInOrder(xsdt, "Signature : \"XSDT\"",
                "ACPI Table Address   0 : " + String.format("%016X", tables.addresses().get("FACP")),
                "ACPI Table Address   1 : " + String.format("%016X", tables.addresses().get("APIC")),
                "ACPI Table Address   2 : " + String.format("%016X", tables.addresses().get("MCFG")));
        assertRecompiles("xsdt", xsdt, tables.table("XSDT"));
    }

    /**
     * iasl cannot disassemble a bare RSDP file, so this goes the other way: iasl's data table compiler builds the
     * RSDP from our field values, computing both checksums itself, and must produce exactly our bytes.
     */
    @Test
    void theRsdpMatchesWhatIaslCompilesFromTheSameFields() throws Exception {
        String source = String.join("\n",
                "[0008]                          Signature : \"RSD PTR \"",
                "[0001]                           Checksum : 00",
                "[0006]                             Oem ID : \"VFIO4J\"",
                "[0001]                           Revision : 02",
                "[0004]                       RSDT Address : 00000000",
                "[0004]                             Length : 00000024",
                "[0008]                       XSDT Address : " + String.format("%016X", tables.addresses().get("XSDT")),
                "[0001]                  Extended Checksum : 00",
                "[0003]                           Reserved : 000000", "");
        assertArrayEquals(Iasl.compile(dir, "rsdp", "asl", source), tables.table(Rsdp.SIGNATURE));
    }

    /** Compiles a data table disassembly back and compares all but the fields iasl rewrites. */
    private void assertRecompiles(String name, String dsl, byte[] ours) throws Exception {
        byte[] theirs = Iasl.compile(dir, name, "dsl", dsl);
        assertEquals(ours.length, theirs.length);
        assertArrayEquals(Arrays.copyOf(ours, 28), withHeaderChecksum(Arrays.copyOf(theirs, 28), ours[9]), name);
        assertArrayEquals(Arrays.copyOfRange(ours, 36, ours.length), Arrays.copyOfRange(theirs, 36, theirs.length),
                name + " body");
    }

    private static byte[] withHeaderChecksum(byte[] header, byte checksum) {
        header[AcpiTable.CHECKSUM_OFFSET] = checksum;
        return header;
    }

    /** The {address, pin, source, gsi} entries of the disassembled _PRT. */
    private static List<int[]> prtEntries(String dsl) {
        Pattern entry = Pattern.compile("Package \\(0x04\\)\\s*\\{\\s*(0x[0-9A-F]+|Zero|One),\\s*(0x[0-9A-F]+|Zero|One),"
                + "\\s*(0x[0-9A-F]+|Zero|One),\\s*(0x[0-9A-F]+|Zero|One)\\s*\\}");
        int start = dsl.indexOf("Name (_PRT");
        Matcher m = entry.matcher(dsl.substring(start, dsl.indexOf("Device (MRES)")));
        List<int[]> out = new ArrayList<>();
        while (m.find()) {
            out.add(new int[] {value(m.group(1)), value(m.group(2)), value(m.group(3)), value(m.group(4))});
        }
        return out;
    }

    private static int value(String v) {
        return switch (v) {
            case "Zero" -> 0;
            case "One" -> 1;
            default -> Integer.parseUnsignedInt(v.substring(2), 16);
        };
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** Each of {@code parts} occurs after the previous one (whitespace runs in the disassembly count as one). */
    private static void assertContainsInOrder(String text, String... parts) {
        String flat = text.replaceAll("[ \\t]+", " ");
        int at = 0;
        for (String p : parts) {
            String q = p.replaceAll("[ \\t]+", " ");
            int i = flat.indexOf(q, at);
            assertTrue(i >= 0, "'" + p + "' not found after offset " + at + " in:\n" + text);
            at = i + q.length();
        }
    }
}
