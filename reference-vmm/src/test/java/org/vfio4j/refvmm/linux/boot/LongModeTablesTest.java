package org.vfio4j.refvmm.linux.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The GDT decodes to the segments the 64-bit entry needs, and the page tables walk back to the identity. */
class LongModeTablesTest {

    /** Low guest RAM as the tables were written into it. */
    private static ByteBuffer writtenLowRam() {
        ByteBuffer ram = ByteBuffer.allocate(0x10000).order(ByteOrder.LITTLE_ENDIAN);
        LongModeTables.write((gpa, bytes) -> ram.put((int) gpa, bytes));
        return ram;
    }

    /** A 4-level walk the way the MMU does it for 4 KiB and 2 MiB pages; empty when a level is not present. */
    private static OptionalLong translate(ByteBuffer ram, long cr3, long va) {
        long table = cr3 & ~0xFFFL;
        for (int level = 4; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long entry = ram.getLong((int) (table + ((va >>> shift & 0x1FF) * 8)));
            if ((entry & LongModeTables.PRESENT) == 0) {
                return OptionalLong.empty();
            }
            long frame = entry & 0x000F_FFFF_FFFF_F000L;
            if (level == 1 || (level <= 3 && (entry & LongModeTables.HUGE) != 0)) {
                long pageMask = (1L << shift) - 1;
                return OptionalLong.of((frame & ~pageMask) | (va & pageMask));
            }
            table = frame;
        }
        throw new AssertionError("unreachable");
    }

    @Test
    void everyAddressBelow4GiBMapsToItself() {
        ByteBuffer ram = writtenLowRam();
        long cr3 = LongModeTables.registers().cr3();
        for (long page = 0; page < LongModeTables.IDENTITY_MAP_END; page += 1L << 21) {
            for (long off : new long[] {0, 0x1234, (1L << 21) - 1}) {
                long va = page + off;
                assertEquals(OptionalLong.of(va), translate(ram, cr3, va), () -> Long.toHexString(va));
            }
        }
        assertFalse(translate(ram, cr3, 1L << 32).isPresent(), "4 GiB and up are not mapped");
        assertFalse(translate(ram, cr3, 1L << 39).isPresent());
    }

    @Test
    void tablesAreWritableAndWhereTheLayoutSays() {
        ByteBuffer ram = writtenLowRam();
        assertEquals(0x9000, LongModeTables.registers().cr3());
        assertEquals(0xA000 | 3, ram.getLong(0x9000));
        for (int i = 0; i < 4; i++) {
            assertEquals(0xB000 + i * 0x1000 | 3, ram.getLong(0xA000 + i * 8));
        }
        assertEquals(0, ram.getLong(0xA000 + 4 * 8));
        assertEquals(0xFFE0_0000L | 0x83, ram.getLong(0xEFF8), "the last 2 MiB page below 4 GiB");
        assertEquals(0, ram.getLong(0xF000), "nothing written past the fourth page directory");
    }

    @Test
    void gdtDecodesToA64BitCodeAndFlatDataSegment() {
        LongModeRegisters r = LongModeTables.registers();
        ByteBuffer ram = writtenLowRam();
        assertEquals(0x500, r.gdtBase());
        assertEquals(5 * 8 - 1, r.gdtLimit());
        assertEquals(0, ram.getLong(0x500));
        assertEquals(0, ram.getLong(0x508));
        assertEquals(LongModeTables.CODE64_DESCRIPTOR, ram.getLong(0x500 + r.cs().selector()));
        assertEquals(LongModeTables.DATA_DESCRIPTOR, ram.getLong(0x500 + r.data().selector()));
        assertEquals(LongModeTables.TSS_DESCRIPTOR, ram.getLong(0x500 + r.tr().selector()));

        assertEquals(new Segment(0x10, 0, 0xFFFF_FFFFL, 11, true, 0, true, false, true, false, true), r.cs());
        assertEquals(new Segment(0x18, 0, 0xFFFF_FFFFL, 3, true, 0, true, false, false, true, true), r.data());
        assertEquals(new Segment(0x20, 0, 0x67, 11, false, 0, true, false, false, false, false), r.tr());
    }

    @Test
    void decodesBaseAndLimitFromTheirSplitFields() {
        Segment s = Segment.decode(0x28, 0x12_4_F_93_345678_ABCDL);
        assertEquals(0x1234_5678L, s.base());
        assertEquals(0xFABCDL, s.limit());
        assertTrue(s.db());
        assertFalse(s.g());
    }

    @Test
    void controlRegistersEnableLongModePaging() {
        LongModeRegisters r = LongModeTables.registers();
        assertEquals(0x8000_0031L, r.cr0(), "PG | NE | ET | PE");
        assertEquals(0x20, r.cr4(), "PAE");
        assertEquals(0x500, r.efer(), "LMA | LME");
    }
}
