package org.vfio4j.pci.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.testing.CProbe;

/** Every constant of {@link PciRegisters} named like a {@code <linux/pci_regs.h>} macro equals that macro. */
class PciRegistersHeaderTest {

    /** Our own names (not macros in the header). */
    private static final List<String> NOT_IN_HEADER =
            List.of("STATUS_RW1C_BITS", "PCI_EXP_DEVSTA_RW1C", "PCI_HEADER_TYPE_MFD", "PCI_EXP_VER2_SIZEOF");

    @Test
    void constantsMatchLinuxPciRegsH() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        for (Field f : PciRegisters.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class
                    && !NOT_IN_HEADER.contains(f.getName())) {
                java.put(f.getName(), f.getInt(null) & 0xFFFF_FFFFL);
            }
        }
        Map<String, String> expr = new LinkedHashMap<>();
        java.keySet().forEach(k -> expr.put(k, k));
        // PCI_HEADER_TYPE_MFD is newer than the installed 6.1 headers; there it is the complement of the type mask.
        java.put("PCI_HEADER_TYPE_MFD", (long) PciRegisters.PCI_HEADER_TYPE_MFD);
        expr.put("PCI_HEADER_TYPE_MFD", "(~PCI_HEADER_TYPE_MASK & 0xff)");
        java.put("STATUS_RW1C_BITS", (long) PciRegisters.STATUS_RW1C_BITS);
        expr.put("STATUS_RW1C_BITS", "PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT"
                + " | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY");
        java.put("PCI_EXP_DEVSTA_RW1C", (long) PciRegisters.PCI_EXP_DEVSTA_RW1C);
        expr.put("PCI_EXP_DEVSTA_RW1C", "PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED"
                + " | PCI_EXP_DEVSTA_URD");
        // QEMU's name for the full v2 block: slot status 2 is the last register.
        java.put("PCI_EXP_VER2_SIZEOF", (long) PciRegisters.PCI_EXP_VER2_SIZEOF);
        expr.put("PCI_EXP_VER2_SIZEOF", "PCI_EXP_SLTSTA2 + 2");
        Map<String, Long> c = CProbe.evaluate(List.of("linux/pci_regs.h"), expr);
        assertEquals(java, c);
        assertEquals(147, java.size(), "all constants were compared"); // guards against the reflection finding none
    }

    @Test
    void extendedHeaderHelpersMatchTheHeaderMacros() throws Exception {
        int header = PciRegisters.extCapHeader(0x0b, 1, 0x148);
        Map<String, String> expr = new LinkedHashMap<>();
        expr.put("id", "PCI_EXT_CAP_ID(" + header + "u)");
        expr.put("ver", "PCI_EXT_CAP_VER(" + header + "u)");
        expr.put("next", "PCI_EXT_CAP_NEXT(" + header + "u)");
        Map<String, Long> c = CProbe.evaluate(List.of("linux/pci_regs.h"), expr);
        assertEquals(Map.of("id", 0x0bL, "ver", 1L, "next", 0x148L), c);
        assertEquals(0x0b, PciRegisters.extCapId(header));
        assertEquals(1, PciRegisters.extCapVersion(header));
        assertEquals(0x148, PciRegisters.extCapNext(header));
    }
}
