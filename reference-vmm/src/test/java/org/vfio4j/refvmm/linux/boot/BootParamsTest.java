package org.vfio4j.refvmm.linux.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.memory.E820Entry;
import org.vfio4j.core.memory.E820Map;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.testing.CProbe;

/** The zero page: every offset and constant against asm/bootparam.h through gcc, and the fields a loader sets. */
class BootParamsTest {
    private static final Map<String, String> FIELDS = Map.of(
            "ACPI_RSDP_ADDR", "acpi_rsdp_addr",
            "EXT_RAMDISK_IMAGE", "ext_ramdisk_image",
            "EXT_RAMDISK_SIZE", "ext_ramdisk_size",
            "EXT_CMD_LINE_PTR", "ext_cmd_line_ptr",
            "E820_ENTRIES", "e820_entries",
            "SENTINEL", "sentinel",
            "HDR", "hdr",
            "HDR_LIMIT", "edd_mbr_sig_buffer",
            "E820_TABLE", "e820_table");

    @Test
    void offsetsAndConstantsMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        for (Field f : BootParams.class.getDeclaredFields()) {
            if (f.getType() != int.class || !Modifier.isStatic(f.getModifiers())
                    || Modifier.isPublic(f.getModifiers())) {
                continue;
            }
            String n = f.getName();
            String member = n.startsWith("HDR_") && !n.equals("HDR_LIMIT")
                    ? "hdr." + n.substring(4).toLowerCase(Locale.ROOT) : FIELDS.get(n);
            java.put(n, (long) f.getInt(null));
            expr.put(n, "offsetof(struct boot_params, " + member + ")");
        }
        assertEquals(34, java.size(), "offsets covered");
        put(java, expr, "sizeof(struct boot_params)", BootParams.SIZE);
        put(java, expr, "E820_MAX_ENTRIES_ZEROPAGE", BootParams.MAX_E820_ENTRIES);
        put(java, expr, "CAN_USE_HEAP", BootParams.CAN_USE_HEAP);
        put(java, expr, "LOADED_HIGH", BzImage.LOADED_HIGH);
        put(java, expr, "XLF_KERNEL_64", BzImage.XLF_KERNEL_64);
        put(java, expr, "sizeof(struct boot_e820_entry)", E820Map.ENTRY_SIZE);
        // the last header field this code reads ends where today's setup_header ends
        put(java, expr, "offsetof(struct boot_params, hdr) + sizeof(struct setup_header)",
                BootParams.HDR_KERNEL_INFO_OFFSET + 4);
        assertEquals(java, CProbe.evaluate(List.of("asm/bootparam.h"), expr));
    }

    private static void put(Map<String, Long> java, Map<String, String> expr, String c, long value) {
        java.put(c, value);
        expr.put(c, c);
    }

    @Test
    void copiesTheHeaderAndSetsTheLoaderFields() {
        BzImage k = TestbedKernel.image();
        List<E820Entry> map = List.of(new E820Entry(0, 0x9FC00, E820Type.RAM),
                new E820Entry(0x9FC00, 0x60400, E820Type.RESERVED),
                new E820Entry(0x100000, 0x1FF00000, E820Type.RAM),
                new E820Entry(0xB000_0000L, 0x1000_0000, E820Type.RESERVED));
        byte[] page = new BootParams(k).commandLine(0x20000).ramdisk(0x1F00_0000L, 0x123456).e820(map)
                .acpiRsdp(0xE0000).bytes();
        assertEquals(4096, page.length);
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        byte[] header = k.setupHeader();
        // the header as the image has it, except the fields the loader owns
        byte[] copied = Arrays.copyOfRange(page, BootParams.HDR, BootParams.HDR + header.length);
        for (int off : new int[] {BootParams.HDR_TYPE_OF_LOADER, BootParams.HDR_LOADFLAGS}) {
            copied[off - BootParams.HDR] = header[off - BootParams.HDR];
        }
        for (int off : new int[] {BootParams.HDR_RAMDISK_IMAGE, BootParams.HDR_RAMDISK_SIZE,
                BootParams.HDR_HEAP_END_PTR, BootParams.HDR_CMD_LINE_PTR}) {
            int len = off == BootParams.HDR_HEAP_END_PTR ? 2 : 4;
            System.arraycopy(header, off - BootParams.HDR, copied, off - BootParams.HDR, len);
        }
        assertArrayEquals(header, copied);
        assertEquals(0xFF, Byte.toUnsignedInt(b.get(BootParams.HDR_TYPE_OF_LOADER)));
        assertEquals(k.loadFlags() | BootParams.CAN_USE_HEAP, Byte.toUnsignedInt(b.get(BootParams.HDR_LOADFLAGS)));
        assertEquals(0xFE00, Short.toUnsignedInt(b.getShort(BootParams.HDR_HEAP_END_PTR)));
        assertEquals(0x20000, b.getInt(BootParams.HDR_CMD_LINE_PTR));
        assertEquals(0, b.getInt(BootParams.EXT_CMD_LINE_PTR));
        assertEquals(0x1F00_0000, b.getInt(BootParams.HDR_RAMDISK_IMAGE));
        assertEquals(0x123456, b.getInt(BootParams.HDR_RAMDISK_SIZE));
        assertEquals(0xE0000, b.getLong(BootParams.ACPI_RSDP_ADDR));
        assertEquals(0, b.get(BootParams.SENTINEL), "the image's sentinel byte is not copied");
        assertEquals(4, b.get(BootParams.E820_ENTRIES));
        assertArrayEquals(E820Map.encode(map), Arrays.copyOfRange(page, BootParams.E820_TABLE,
                BootParams.E820_TABLE + 4 * E820Map.ENTRY_SIZE));
        assertEquals(0xB000_0000L, b.getLong(BootParams.E820_TABLE + 3 * 20));
        assertEquals(2, b.getInt(BootParams.E820_TABLE + 3 * 20 + 16));
    }

    @Test
    void splitsAddressesAbove4GiBIntoTheExtFields() {
        ByteBuffer b = ByteBuffer.wrap(new BootParams(TestbedKernel.image()).commandLine(0x1_2345_6000L)
                .ramdisk(0x2_0000_1000L, 0x1_0000_0002L).bytes()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x2345_6000, b.getInt(BootParams.HDR_CMD_LINE_PTR));
        assertEquals(1, b.getInt(BootParams.EXT_CMD_LINE_PTR));
        assertEquals(0x1000, b.getInt(BootParams.HDR_RAMDISK_IMAGE));
        assertEquals(2, b.getInt(BootParams.EXT_RAMDISK_IMAGE));
        assertEquals(2, b.getInt(BootParams.HDR_RAMDISK_SIZE));
        assertEquals(1, b.getInt(BootParams.EXT_RAMDISK_SIZE));
    }

    @Test
    void refusesMoreE820EntriesThanTheZeroPageHolds() {
        List<E820Entry> map = new ArrayList<>();
        for (int i = 0; i < 129; i++) {
            map.add(new E820Entry(i * 0x2000L, 0x1000, E820Type.RAM));
        }
        BootParams p = new BootParams(TestbedKernel.image());
        p.e820(map.subList(0, 128));
        assertEquals(128, Byte.toUnsignedInt(p.bytes()[BootParams.E820_ENTRIES]));
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> p.e820(map));
        assertEquals("the memory map has 129 entries; the zero page holds 128", e.getMessage());
    }
}
