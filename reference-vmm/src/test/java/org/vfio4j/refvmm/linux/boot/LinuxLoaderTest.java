package org.vfio4j.refvmm.linux.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.memory.E820Entry;
import org.vfio4j.core.memory.E820Map;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.core.memory.ReservedRange;

/** Placement of kernel, initrd and command line with the real kernel's init_size on several guest RAM sizes. */
class LinuxLoaderTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final long LOW_RAM_END = 0xB000_0000L;
    private static final long RSDP = 0xE0000;

    /** Guest RAM as the reference VMM lays it out: below the ECAM, the rest from 4 GiB. */
    private static List<RamRegion> ram(long bytes) {
        List<RamRegion> r = new ArrayList<>();
        r.add(new RamRegion(0, Math.min(bytes, LOW_RAM_END), 0, "low"));
        if (bytes > LOW_RAM_END) {
            r.add(new RamRegion(1L << 32, bytes - LOW_RAM_END, 0, "high"));
        }
        return r;
    }

    private static final ReservedRange ECAM = new ReservedRange(0xB000_0000L, 0x1000_0000L, E820Type.RESERVED,
            "ECAM");

    private static LinuxBootRequest request(long ramBytes, byte[] initrd, String cmdline, ReservedRange... extra) {
        List<ReservedRange> reserved = new ArrayList<>(List.of(ECAM));
        reserved.addAll(List.of(extra));
        return new LinuxBootRequest(TestbedKernel.image(), initrd, cmdline, ram(ramBytes), reserved, RSDP);
    }

    /** Guest memory that remembers every write. */
    private static final class RecordingMemory implements GuestPhysicalWriter {
        record Write(long gpa, byte[] bytes) {
            long end() {
                return gpa + bytes.length;
            }
        }

        final List<Write> writes = new ArrayList<>();

        @Override
        public void write(long gpa, byte[] bytes) {
            writes.add(new Write(gpa, bytes.clone()));
        }

        byte[] at(long gpa) {
            return writes.stream().filter(w -> w.gpa == gpa).findFirst().orElseThrow().bytes;
        }

        /** Every write lies in usable RAM of {@code e820} and no two overlap. */
        void assertInsideRamWithoutOverlap(List<E820Entry> e820) {
            List<Write> sorted = new ArrayList<>(writes);
            sorted.sort(Comparator.comparingLong(Write::gpa));
            for (int i = 0; i < sorted.size(); i++) {
                Write w = sorted.get(i);
                assertTrue(e820.stream().anyMatch(e -> e.type() == E820Type.RAM && e.address() <= w.gpa
                        && w.end() <= e.end()), () -> "write outside RAM at 0x" + Long.toHexString(w.gpa));
                if (i > 0) {
                    assertTrue(sorted.get(i - 1).end() <= w.gpa, "overlapping writes at 0x" + Long.toHexString(w.gpa));
                }
            }
        }
    }

    private static byte[] initrd(int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    @Test
    void refuses64MiBBecauseTheKernelsInitSizeDoesNotFit() {
        RecordingMemory mem = new RecordingMemory();
        BzImage k = TestbedKernel.image();
        LinuxBootException e = assertThrows(LinuxBootException.class,
                () -> LinuxLoader.load(request(64 * MIB, initrd(4096), "console=ttyS0"), mem));
        assertTrue(e.getMessage().startsWith("guest RAM is too small for " + k.name() + ": it needs usable RAM at "
                + String.format("0x%x-0x%x (init_size 0x%x", k.loadAddress(), k.loadAddress() + k.initSize(),
                k.initSize())), e.getMessage());
        assertTrue(e.getMessage().contains("plus 4096 bytes of initrd"), e.getMessage());
        assertEquals(List.of(), mem.writes, "refused before writing anything");
    }

    @Test
    void places512MiBWithTheInitrdAtTheTopOfRam() {
        RecordingMemory mem = new RecordingMemory();
        BzImage k = TestbedKernel.image();
        byte[] rd = initrd(3 * (int) MIB + 123);
        LinuxBootSetup s = LinuxLoader.load(request(512 * MIB, rd, "console=ttyS0 root=/dev/ram0"), mem);

        assertEquals(k.prefAddress() + 0x200, s.entryRip());
        assertEquals(0x7000, s.rsi());
        assertEquals(k.prefAddress(), s.kernelAddress());
        assertEquals(k.prefAddress() + k.initSize(), s.kernelEnd());
        assertEquals(LongModeTables.registers(), s.registers());
        assertEquals(List.of(new E820Entry(0, 0x9FC00, E820Type.RAM),
                new E820Entry(0x9FC00, 0x100000 - 0x9FC00, E820Type.RESERVED),
                new E820Entry(0x100000, 512 * MIB - 0x100000, E820Type.RAM),
                new E820Entry(0xB000_0000L, 0x1000_0000L, E820Type.RESERVED)), s.e820());
        assertInitrdPlacement(s, rd.length, 512 * MIB);
        assertEquals(512 * MIB - 3 * MIB - 4096, s.initrdAddress(), "the highest page that fits");

        mem.assertInsideRamWithoutOverlap(s.e820());
        assertArrayEquals(rd, mem.at(s.initrdAddress()));
        assertArrayEquals(k.protectedModeKernel(), mem.at(s.kernelAddress()));
        assertArrayEquals("console=ttyS0 root=/dev/ram0\0".getBytes(StandardCharsets.UTF_8), mem.at(0x20000));
        assertEquals(28, s.commandLineLength());
        assertArrayEquals(LongModeTables.gdt(), mem.at(0x500));
        assertArrayEquals(LongModeTables.pml4(), mem.at(0x9000));
        assertArrayEquals(LongModeTables.pageDirectories(), mem.at(0xB000));

        ByteBuffer zp = ByteBuffer.wrap(mem.at(0x7000)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xFF, Byte.toUnsignedInt(zp.get(BootParams.HDR_TYPE_OF_LOADER)));
        assertEquals(0x20000, zp.getInt(BootParams.HDR_CMD_LINE_PTR));
        assertEquals(s.initrdAddress(), Integer.toUnsignedLong(zp.getInt(BootParams.HDR_RAMDISK_IMAGE)));
        assertEquals(rd.length, zp.getInt(BootParams.HDR_RAMDISK_SIZE));
        assertEquals(RSDP, zp.getLong(BootParams.ACPI_RSDP_ADDR));
        assertEquals(4, zp.get(BootParams.E820_ENTRIES));
        byte[] table = new byte[4 * E820Map.ENTRY_SIZE];
        zp.get(BootParams.E820_TABLE, table);
        assertArrayEquals(E820Map.encode(s.e820()), table);
    }

    @Test
    void places3GiBSplitAcross4GiBBelowInitrdAddrMaxAndAroundReservations() {
        RecordingMemory mem = new RecordingMemory();
        BzImage k = TestbedKernel.image();
        ReservedRange opRegion = new ReservedRange(LOW_RAM_END - 0x2000, 0x2000, E820Type.NVS, "IGD OpRegion");
        byte[] rd = initrd(2 * (int) MIB);
        LinuxBootSetup s = LinuxLoader.load(request(3 * GIB, rd, "console=ttyS0", opRegion), mem);

        assertEquals(List.of(new E820Entry(0, 0x9FC00, E820Type.RAM),
                new E820Entry(0x9FC00, 0x100000 - 0x9FC00, E820Type.RESERVED),
                new E820Entry(0x100000, LOW_RAM_END - 0x2000 - 0x100000, E820Type.RAM),
                new E820Entry(LOW_RAM_END - 0x2000, 0x2000, E820Type.NVS),
                new E820Entry(0xB000_0000L, 0x1000_0000L, E820Type.RESERVED),
                new E820Entry(1L << 32, 3 * GIB - LOW_RAM_END, E820Type.RAM)), s.e820());
        long limit = Math.min(k.initrdAddrMax() + 1, LOW_RAM_END - 0x2000);
        assertInitrdPlacement(s, rd.length, limit);
        assertEquals((limit - rd.length) & -4096L, s.initrdAddress(), "as high as initrd_addr_max allows");
        mem.assertInsideRamWithoutOverlap(s.e820());
        assertEquals(6, mem.at(0x7000)[BootParams.E820_ENTRIES]);
    }

    @Test
    void putsTheInitrdBelowTheKernelWhenOnlyThatGapIsLargeEnough() {
        BzImage k = TestbedKernel.image();
        long ram = (k.loadAddress() + k.initSize() + 0x100000) & -MIB; // under 1 MiB free above init_size
        byte[] rd = initrd(4 * (int) MIB);
        RecordingMemory mem = new RecordingMemory();
        LinuxBootSetup s = LinuxLoader.load(request(ram, rd, ""), mem);
        assertInitrdPlacement(s, rd.length, ram);
        assertTrue(s.initrdAddress() + rd.length <= k.loadAddress(), "below the kernel");
        assertTrue(s.initrdAddress() >= 0x100000, "above the legacy area");
        mem.assertInsideRamWithoutOverlap(s.e820());
    }

    @Test
    void refusesAnInitrdThatFitsNowhereBesideTheKernel() {
        BzImage k = TestbedKernel.image();
        long ram = (k.loadAddress() + k.initSize() + 0x100000) & -MIB;
        RecordingMemory mem = new RecordingMemory();
        LinuxBootException e = assertThrows(LinuxBootException.class,
                () -> LinuxLoader.load(request(ram, initrd(16 * (int) MIB), ""), mem));
        assertTrue(e.getMessage().startsWith("guest RAM is too small for " + k.name() + " and the initrd"),
                e.getMessage());
        assertTrue(e.getMessage().contains("16777216 bytes of initrd fit nowhere"), e.getMessage());
        assertEquals(List.of(), mem.writes);
    }

    @Test
    void refusesAnInitrdThatOnlyFitsAboveInitrdAddrMax() {
        BzImage k = TestbedKernel.image();
        long max = k.initrdAddrMax();
        // everything from just above the kernel up to initrd_addr_max is taken, RAM above it is free
        long kernelEnd = k.loadAddress() + k.initSize();
        long takenFrom = (kernelEnd + 0xFFFF) & -0x10000L;
        ReservedRange taken = new ReservedRange(takenFrom, max + 1 - takenFrom, E820Type.RESERVED, "taken");
        RecordingMemory mem = new RecordingMemory();
        LinuxBootException e = assertThrows(LinuxBootException.class,
                () -> LinuxLoader.load(request(3 * GIB, initrd(16 * (int) MIB), "", taken), mem));
        assertTrue(e.getMessage().startsWith("the initrd (16777216 bytes) only fits at 0x"), e.getMessage());
        assertTrue(e.getMessage().endsWith(String.format("highest initrd address 0x%x (initrd_addr_max, or 4 GiB)",
                max)), e.getMessage());
        assertEquals(List.of(), mem.writes);
    }

    @Test
    void refusesACommandLineLongerThanCmdlineSize() {
        BzImage k = TestbedKernel.image();
        int max = (int) Math.min(k.cmdlineSize(), LinuxLoader.COMMAND_LINE_ROOM - 1);
        RecordingMemory mem = new RecordingMemory();
        LinuxBootSetup s = LinuxLoader.load(request(512 * MIB, new byte[0], "x".repeat(max)), mem);
        assertEquals(max, s.commandLineLength());
        assertEquals(max + 1, mem.at(0x20000).length);
        assertEquals(0, s.initrdAddress());
        assertEquals(0, s.initrdSize());
        RecordingMemory none = new RecordingMemory();
        LinuxBootException e = assertThrows(LinuxBootException.class,
                () -> LinuxLoader.load(request(512 * MIB, new byte[0], "x".repeat((int) k.cmdlineSize() + 1)),
                        none));
        assertEquals("the command line is " + (k.cmdlineSize() + 1) + " bytes; " + k.name() + " accepts at most "
                + k.cmdlineSize() + " (cmdline_size)", e.getMessage());
        assertEquals(List.of(), none.writes);
    }

    @Test
    void refusesRamThatDoesNotHoldTheBootStructures() {
        List<RamRegion> high = List.of(new RamRegion(1L << 32, GIB, 0, "high only"));
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> LinuxLoader.load(
                new LinuxBootRequest(TestbedKernel.image(), new byte[0], "", high, List.of(), 0),
                new RecordingMemory()));
        assertTrue(e.getMessage().startsWith("guest RAM must be usable at 0x500-0x21000"), e.getMessage());
    }

    @Test
    void namesAMissingInitrd(@TempDir Path dir) {
        Path missing = dir.resolve("initrd.img");
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> LinuxLoader.readInitrd(missing));
        assertEquals("initrd " + missing + ": no such file", e.getMessage());
    }

    /** Page aligned, inside RAM below {@code limit} and {@code initrd_addr_max}, clear of the kernel's init_size. */
    private static void assertInitrdPlacement(LinuxBootSetup s, long size, long limit) {
        BzImage k = TestbedKernel.image();
        assertEquals(size, s.initrdSize());
        assertEquals(0, s.initrdAddress() % 4096, "page aligned");
        assertTrue(s.initrdAddress() + size <= limit, "below the limit");
        assertTrue(s.initrdAddress() + size - 1 <= k.initrdAddrMax(), "below initrd_addr_max");
        assertTrue(s.initrdAddress() + size <= s.kernelAddress() || s.initrdAddress() >= s.kernelEnd(),
                "clear of the kernel's init_size");
    }
}
