package org.vfio4j.refvmm.linux.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.LongUnaryOperator;

/**
 * What a 64-bit Linux entry needs before its first instruction: a GDT with a 64-bit code and a flat data segment,
 * and page tables mapping the first 4 GiB to themselves with 2 MiB pages (one PML4, one PDPT, four page
 * directories), at the fixed low-RAM addresses of the reference VMM's layout.
 */
public final class LongModeTables {
    /** Where the GDT goes. */
    public static final long GDT_ADDRESS = 0x500;
    /** Where the PML4 goes (CR3). */
    public static final long PML4_ADDRESS = 0x9000;
    /** Where the PDPT goes. */
    public static final long PDPT_ADDRESS = 0xA000;
    /** Where the first of the four page directories goes; the others follow at 4 KiB steps. */
    public static final long PD_ADDRESS = 0xB000;
    /** How many page directories: one per GiB of the identity map. */
    public static final int PAGE_DIRECTORIES = 4;
    /** How far the identity map reaches. */
    public static final long IDENTITY_MAP_END = PAGE_DIRECTORIES * (1L << 30);

    /** GDT entry 2: 64-bit code, present, DPL 0, execute/read, accessed, G, limit 0xFFFFF. */
    public static final long CODE64_DESCRIPTOR = 0x00AF_9B00_0000_FFFFL;
    /** GDT entry 3: flat 32-bit data, present, DPL 0, read/write, accessed, G, D/B, limit 0xFFFFF. */
    public static final long DATA_DESCRIPTOR = 0x00CF_9300_0000_FFFFL;
    /** GDT entry 4: a busy 64-bit TSS at 0 (base 0, limit 0x67); only for TR's hidden state. */
    public static final long TSS_DESCRIPTOR = 0x0000_8B00_0000_0067L;
    /** The code selector. */
    public static final int CODE_SELECTOR = 0x10;
    /** The data selector. */
    public static final int DATA_SELECTOR = 0x18;
    /** The TSS selector. */
    public static final int TSS_SELECTOR = 0x20;

    static final long CR0_PE = 1L;
    static final long CR0_ET = 1L << 4;
    static final long CR0_NE = 1L << 5;
    static final long CR0_PG = 1L << 31;
    static final long CR4_PAE = 1L << 5;
    static final long EFER_LME = 1L << 8;
    static final long EFER_LMA = 1L << 10;
    static final long PRESENT = 1;
    static final long WRITABLE = 1 << 1;
    static final long HUGE = 1 << 7;
    static final long PAGE = 4096;
    static final long TWO_MIB = 1L << 21;

    private LongModeTables() {
    }

    /** The GDT: null, null, 64-bit code (0x10), data (0x18), TSS (0x20); 8 bytes each, little-endian. */
    public static byte[] gdt() {
        long[] entries = {0, 0, CODE64_DESCRIPTOR, DATA_DESCRIPTOR, TSS_DESCRIPTOR};
        ByteBuffer b = ByteBuffer.allocate(entries.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long e : entries) {
            b.putLong(e);
        }
        return b.array();
    }

    /** The PML4 page: entry 0 points to the PDPT. */
    public static byte[] pml4() {
        return table(1, i -> PDPT_ADDRESS | PRESENT | WRITABLE);
    }

    /** The PDPT page: entries 0-3 point to the four page directories. */
    public static byte[] pdpt() {
        return table(PAGE_DIRECTORIES, i -> PD_ADDRESS + i * PAGE | PRESENT | WRITABLE);
    }

    /** The four page directories, contiguous (16 KiB): entry {@code i} maps 2 MiB page {@code i} to itself. */
    public static byte[] pageDirectories() {
        ByteBuffer b = ByteBuffer.allocate((int) (PAGE_DIRECTORIES * PAGE)).order(ByteOrder.LITTLE_ENDIAN);
        for (int d = 0; d < PAGE_DIRECTORIES; d++) {
            int first = d * 512;
            b.put(table(512, i -> (first + i) * TWO_MIB | PRESENT | WRITABLE | HUGE));
        }
        return b.array();
    }

    /** Writes the GDT and the page tables at their addresses. */
    public static void write(GuestPhysicalWriter memory) {
        memory.write(GDT_ADDRESS, gdt());
        memory.write(PML4_ADDRESS, pml4());
        memory.write(PDPT_ADDRESS, pdpt());
        memory.write(PD_ADDRESS, pageDirectories());
    }

    /** The register values that go with the tables. */
    public static LongModeRegisters registers() {
        return new LongModeRegisters(CR0_PE | CR0_ET | CR0_NE | CR0_PG, PML4_ADDRESS, CR4_PAE, EFER_LME | EFER_LMA,
                GDT_ADDRESS, gdt().length - 1, Segment.decode(CODE_SELECTOR, CODE64_DESCRIPTOR),
                Segment.decode(DATA_SELECTOR, DATA_DESCRIPTOR), Segment.decode(TSS_SELECTOR, TSS_DESCRIPTOR));
    }

    /** A 4 KiB table whose first {@code count} entries are {@code entry(index)}, the rest zero (not present). */
    private static byte[] table(int count, LongUnaryOperator entry) {
        ByteBuffer b = ByteBuffer.allocate((int) PAGE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            b.putLong(i * 8, entry.applyAsLong(i));
        }
        return b.array();
    }
}
