package org.vfio4j.refvmm.linux.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.refvmm.linux.pci.IntxRouting;

/**
 * Our tables loaded into ACPICA's interpreter with {@code acpiexec} (acpica-tools): the same table manager, FADT
 * checks, namespace loader and resource manager Linux uses, so what Linux would read from _PRT, _CRS and _S5 is
 * checked here before any boot.
 */
class AcpiExecTest {
    @TempDir
    Path dir;

    private String acpiexec(String commands) throws IOException, InterruptedException {
        AcpiTables tables = AcpiTables.build(2);
        List<String> names = List.of("FACP", "APIC", "MCFG", "DSDT");
        for (String n : names) {
            Files.write(dir.resolve(n.toLowerCase() + ".dat"), tables.table(n));
        }
        Process p;
        try {
            p = new ProcessBuilder("acpiexec", "-b", commands, "facp.dat", "apic.dat", "mcfg.dat", "dsdt.dat")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("acpiexec not found: install Debian's acpica-tools", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        for (String n : names) {
            assertTrue(out.contains("ACPI: " + n + " "), n + " loaded:\n" + out);
        }
        assertFalse(out.contains("Warning") || out.contains("Error") || out.contains("Could not"), out);
        // acpiexec tries _SRS after every _CRS; the devices have none, on purpose.
        String rest = out.replace("AcpiSetCurrentResources failed: AE_NOT_FOUND", "");
        assertFalse(rest.contains("AE_"), rest);
        return out;
    }

    @Test
    void acpicaReadsThePrtAsStaticGsisByTheFormula() throws Exception {
        String out = acpiexec("resources \\_SB.PCI0");
        Matcher m = Pattern.compile("PCI IRQ Routing Table Package\\s+Address : ([0-9A-F]+)\\s+Pin : ([0-9A-F]+)"
                + "\\s+Source : \\[NULL NAMESTRING\\]\\s+Source Index : ([0-9A-F]+)").matcher(out);
        int n = 0;
        while (m.find()) {
            long address = Long.parseLong(m.group(1), 16);
            int pin = Integer.parseInt(m.group(2), 16);
            int gsi = Integer.parseInt(m.group(3), 16);
            assertEquals(0xFFFF, address & 0xFFFF);
            assertEquals(IntxRouting.gsi((int) (address >>> 16), pin + 1), gsi, "entry " + n);
            n++;
        }
        assertEquals(128, n, out);
    }

    @Test
    void acpicaReadsTheHostBridgeWindows() throws Exception {
        String out = acpiexec("resources \\_SB.PCI0").replaceAll("[ \\t]+", " ");
        String crs = out.substring(out.indexOf("Evaluating _CRS"), out.indexOf("Resource Conversion Comparison"));
        assertInOrder(crs,
                "Resource Type : Bus Number Range", "Consumer/Producer : ResourceProducer",
                "Address Minimum : 0000", "Address Maximum : 00FF",
                "I/O Resource", "Address Minimum : 0CF8", "Address Length : 08",
                "Resource Type : I/O Range", "Address Minimum : 0000", "Address Maximum : 0CF7",
                "Resource Type : I/O Range", "Address Minimum : 0D00", "Address Maximum : FFFF",
                "32-Bit DWORD Address Space Resource", "Caching : NonCacheable",
                "Address Minimum : C0000000", "Address Maximum : FEBFFFFF",
                "64-Bit QWORD Address Space Resource", "Caching : NonCacheable",
                "Address Minimum : 0000004000000000", "Address Maximum : 0000007FFFFFFFFF",
                "EndTag Resource");
    }

    @Test
    void acpicaReadsS5TheComPortAndTheEcamReservation() throws Exception {
        String out = acpiexec("evaluate \\_S5; resources \\_SB.COM1; resources \\_SB.MRES").replaceAll("[ \\t]+", " ");
        assertInOrder(out, "Evaluating \\_S5", "[Package] Contains 4 Elements:",
                "[Integer] = 0000000000000005", "[Integer] = 0000000000000000",
                "Device: \\_SB.COM1", "Address Minimum : 03F8", "Address Length : 08",
                "IRQ Resource", "Triggering : Edge", "Polarity : ActiveHigh", "Interrupt List : 4",
                "Device: \\_SB.MRES", "Consumer/Producer : ResourceConsumer", "Address Minimum : B0000000",
                "Address Maximum : BFFFFFFF");
    }

    private static void assertInOrder(String text, String... parts) {
        int at = 0;
        for (String p : parts) {
            int i = text.indexOf(p, at);
            assertTrue(i >= 0, "'" + p + "' not found after offset " + at + " in:\n" + text);
            at = i + p.length();
        }
    }
}
