package org.vfio4j.refvmm.linux.acpi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The AML encodings against the byte sequences of the ACPI specification's grammar. */
class AmlTest {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    @Test
    void integersUseTheShortestEncoding() {
        assertArrayEquals(bytes(0x00), Aml.integer(0));
        assertArrayEquals(bytes(0x01), Aml.integer(1));
        assertArrayEquals(bytes(0x0A, 0x02), Aml.integer(2));
        assertArrayEquals(bytes(0x0A, 0xFF), Aml.integer(0xFF));
        assertArrayEquals(bytes(0x0B, 0x00, 0x01), Aml.integer(0x100));
        assertArrayEquals(bytes(0x0B, 0xFF, 0xFF), Aml.integer(0xFFFF));
        assertArrayEquals(bytes(0x0C, 0x00, 0x00, 0x01, 0x00), Aml.integer(0x1_0000));
        assertArrayEquals(bytes(0x0C, 0xFF, 0xFF, 0xFF, 0xFF), Aml.integer(0xFFFF_FFFFL));
        assertArrayEquals(bytes(0x0E, 0, 0, 0, 0, 0x40, 0, 0, 0), Aml.integer(0x40_0000_0000L));
        assertArrayEquals(bytes(0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), Aml.integer(-1));
    }

    @Test
    void pkgLengthTakesOneToFourBytesAndCountsItself() {
        assertArrayEquals(bytes(0x01), Aml.pkgLength(0));
        assertArrayEquals(bytes(0x3F), Aml.pkgLength(62));
        // 63 content bytes + 2 length bytes = 65 = 0x41: low nibble 1 in byte 0 (count 1 in bits 7-6), 0x4 next.
        assertArrayEquals(bytes(0x41, 0x04), Aml.pkgLength(63));
        assertArrayEquals(bytes(0x4F, 0xFF), Aml.pkgLength(4093)); // 4095: largest 2-byte length
        assertArrayEquals(bytes(0x81, 0x00, 0x01), Aml.pkgLength(4094)); // 4097
        assertArrayEquals(bytes(0x8F, 0xFF, 0xFF), Aml.pkgLength((1 << 20) - 4)); // 2^20 - 1
        assertArrayEquals(bytes(0xC2, 0x00, 0x00, 0x01), Aml.pkgLength((1 << 20) - 2)); // 2^20 + 2
        assertArrayEquals(bytes(0xCF, 0xFF, 0xFF, 0xFF), Aml.pkgLength((1 << 28) - 5));
        assertThrows(IllegalArgumentException.class, () -> Aml.pkgLength((1 << 28) - 4));
    }

    @Test
    void nameStringsPadSegmentsAndUseDualAndMultiPrefixes() {
        assertArrayEquals(bytes('_', 'H', 'I', 'D'), Aml.nameString("_HID"));
        assertArrayEquals(bytes('_', 'S', '5', '_'), Aml.nameString("_S5"));
        assertArrayEquals(bytes('\\', '_', 'S', 'B', '_'), Aml.nameString("\\_SB"));
        assertArrayEquals(bytes('\\', 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'), Aml.nameString("\\_SB.PCI0"));
        assertArrayEquals(bytes('\\', 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'C', 'O', 'M', '1'),
                Aml.nameString("\\_SB.PCI0.COM1"));
        assertArrayEquals(bytes('^', '^', 'A', '_', '_', '_'), Aml.nameString("^^A"));
        assertArrayEquals(bytes('\\', 0x00), Aml.nameString("\\"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("pci0"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("TOOLONG"));
        assertThrows(IllegalArgumentException.class, () -> Aml.nameString("\\_SB..X"));
    }

    @Test
    void eisaIdsCompressLikeAslCompilers() {
        assertEquals(0x030AD041L, Aml.eisaIdValue("PNP0A03"));
        assertEquals(0x080AD041L, Aml.eisaIdValue("PNP0A08"));
        assertArrayEquals(bytes(0x0C, 0x41, 0xD0, 0x0A, 0x08), Aml.eisaId("PNP0A08"));
        assertThrows(IllegalArgumentException.class, () -> Aml.eisaId("pnp0a08"));
    }

    @Test
    void stringsBuffersPackagesAndNamedObjects() {
        assertArrayEquals(bytes(0x0D, 'a', 'b', 0), Aml.string("ab"));
        assertArrayEquals(bytes(0x11, 0x05, 0x0A, 0x02, 7, 8), Aml.buffer(bytes(7, 8)));
        assertArrayEquals(bytes(0x12, 0x04, 0x02, 0x00, 0x01), Aml.packageOf(Aml.integer(0), Aml.integer(1)));
        assertArrayEquals(bytes(0x08, '_', 'U', 'I', 'D', 0x00), Aml.name("_UID", Aml.integer(0)));
        // Device: ExtOpPrefix DeviceOp PkgLength NameString TermList; 1 + 4 + 6 = 11 bytes after the opcode.
        assertArrayEquals(bytes(0x5B, 0x82, 0x0B, 'T', 'S', 'T', '_', 0x08, '_', 'U', 'I', 'D', 0x00),
                Aml.device("TST", Aml.name("_UID", Aml.integer(0))));
        assertArrayEquals(bytes(0x10, 0x06, '\\', '_', 'S', 'B', '_'), Aml.scope("\\_SB"));
        assertThrows(IllegalArgumentException.class, () -> Aml.packageOf(new byte[256][]));
        assertThrows(IllegalArgumentException.class, () -> Aml.string("é"));
    }

    @Test
    void largePackagesGetMultiBytePkgLengths() {
        byte[][] elements = new byte[40][];
        java.util.Arrays.fill(elements, Aml.integer(0x1234));
        byte[] pkg = Aml.packageOf(elements);
        // 1 count byte + 40 * 3 = 121 content bytes, + 2 PkgLength bytes = 123 = 0x7B.
        assertEquals(1 + 2 + 121, pkg.length);
        assertArrayEquals(bytes(0x12, 0x4B, 0x07, 40), java.util.Arrays.copyOf(pkg, 4));
    }

    @Test
    void resourceTemplatesHaveSpecLengthsAndAZeroSumEndTag() {
        assertEquals(16 + 2, new ResourceTemplate().wordBusNumber(0, 255).toBytes().length);
        assertEquals(16 + 2, new ResourceTemplate().wordIo(0, 0xCF7).toBytes().length);
        assertEquals(26 + 2, new ResourceTemplate().dwordIo(0, 0xFFFF).toBytes().length);
        assertEquals(26 + 2, new ResourceTemplate().dwordMemory(0xC000_0000L, 0xFEBF_FFFFL, false).toBytes().length);
        assertEquals(46 + 2, new ResourceTemplate().qwordMemory(1L << 38, (1L << 39) - 1).toBytes().length);
        assertArrayEquals(bytes(0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00),
                java.util.Arrays.copyOf(new ResourceTemplate().io(0x3F8, 0x3F8, 1, 8).irqNoFlags(4).toBytes(), 11));
        // Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) {16}: flags = consumer only.
        assertArrayEquals(bytes(0x89, 0x06, 0x00, 0x01, 0x01, 0x10, 0, 0, 0),
                java.util.Arrays.copyOf(new ResourceTemplate().interrupt(16, true, false).toBytes(), 9));
        byte[] t = new ResourceTemplate().wordBusNumber(0, 255).qwordMemory(1L << 38, (1L << 39) - 1).toBytes();
        assertEquals(0x79, t[t.length - 2] & 0xFF);
        assertTrue(AcpiTable.sumsToZero(t, 0, t.length));
        assertTrue(t[t.length - 1] != 0, "a real checksum, not the 'no checksum' zero");
        assertThrows(IllegalArgumentException.class, () -> new ResourceTemplate().wordIo(0x10, 0x0F));
        assertThrows(IllegalArgumentException.class, () -> new ResourceTemplate().irqNoFlags(16));
    }
}
