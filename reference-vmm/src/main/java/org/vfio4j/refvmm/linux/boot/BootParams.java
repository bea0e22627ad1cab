package org.vfio4j.refvmm.linux.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.vfio4j.core.memory.E820Entry;
import org.vfio4j.core.memory.E820Map;

/**
 * The zero page ({@code struct boot_params} of {@code asm/bootparam.h}, 4 KiB) a 64-bit Linux entry finds at RSI:
 * zeroes, the kernel's setup header copied in, and the fields a boot loader fills in. Mutable; {@link #bytes()}
 * gives the page to write into guest RAM.
 */
public final class BootParams {
    /** {@code sizeof(struct boot_params)}. */
    public static final int SIZE = 4096;
    /** {@code E820_MAX_ENTRIES_ZEROPAGE}: how many memory-map entries the zero page holds. */
    public static final int MAX_E820_ENTRIES = 128;
    /** {@code type_of_loader} for a loader without an assigned id. */
    public static final int LOADER_TYPE_UNDEFINED = 0xFF;
    /** {@code CAN_USE_HEAP} in loadflags: {@code heap_end_ptr} is valid. */
    public static final int CAN_USE_HEAP = 1 << 7;
    /** The {@code heap_end_ptr} this loader reports (the usual end of the setup heap, 0xFE00). */
    public static final int HEAP_END_PTR = 0xFE00;

    // struct boot_params (offsets checked against the header with gcc in BootParamsLayoutTest)
    static final int ACPI_RSDP_ADDR = 0x070;
    static final int EXT_RAMDISK_IMAGE = 0x0C0;
    static final int EXT_RAMDISK_SIZE = 0x0C4;
    static final int EXT_CMD_LINE_PTR = 0x0C8;
    static final int E820_ENTRIES = 0x1E8;
    static final int SENTINEL = 0x1EF;
    static final int HDR = 0x1F1;
    /** Where the next field after the header space starts ({@code edd_mbr_sig_buffer}): no header may reach past it. */
    static final int HDR_LIMIT = 0x290;
    static final int E820_TABLE = 0x2D0;

    // struct setup_header, at its offset inside boot_params (the same offset as in the bzImage file)
    static final int HDR_SETUP_SECTS = 0x1F1;
    static final int HDR_SYSSIZE = 0x1F4;
    static final int HDR_VID_MODE = 0x1FA;
    static final int HDR_BOOT_FLAG = 0x1FE;
    static final int HDR_JUMP = 0x200;
    static final int HDR_HEADER = 0x202;
    static final int HDR_VERSION = 0x206;
    static final int HDR_TYPE_OF_LOADER = 0x210;
    static final int HDR_LOADFLAGS = 0x211;
    static final int HDR_RAMDISK_IMAGE = 0x218;
    static final int HDR_RAMDISK_SIZE = 0x21C;
    static final int HDR_HEAP_END_PTR = 0x224;
    static final int HDR_CMD_LINE_PTR = 0x228;
    static final int HDR_INITRD_ADDR_MAX = 0x22C;
    static final int HDR_KERNEL_ALIGNMENT = 0x230;
    static final int HDR_RELOCATABLE_KERNEL = 0x234;
    static final int HDR_XLOADFLAGS = 0x236;
    static final int HDR_CMDLINE_SIZE = 0x238;
    static final int HDR_PAYLOAD_OFFSET = 0x248;
    static final int HDR_PAYLOAD_LENGTH = 0x24C;
    static final int HDR_SETUP_DATA = 0x250;
    static final int HDR_PREF_ADDRESS = 0x258;
    static final int HDR_INIT_SIZE = 0x260;
    static final int HDR_HANDOVER_OFFSET = 0x264;
    static final int HDR_KERNEL_INFO_OFFSET = 0x268;

    private final ByteBuffer page = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * A zero page holding {@code kernel}'s setup header, {@code type_of_loader} 0xFF and {@code CAN_USE_HEAP} with
     * {@code heap_end_ptr} 0xFE00 ({@code LOADED_HIGH} stays as the image has it).
     */
    public BootParams(BzImage kernel) {
        page.put(HDR, kernel.setupHeader());
        page.put(HDR_TYPE_OF_LOADER, (byte) LOADER_TYPE_UNDEFINED);
        page.put(HDR_LOADFLAGS, (byte) (kernel.loadFlags() | CAN_USE_HEAP));
        page.putShort(HDR_HEAP_END_PTR, (short) HEAP_END_PTR);
    }

    /** Sets {@code cmd_line_ptr} (and {@code ext_cmd_line_ptr} for the upper half) to the command line's address. */
    public BootParams commandLine(long address) {
        page.putInt(HDR_CMD_LINE_PTR, (int) address);
        page.putInt(EXT_CMD_LINE_PTR, (int) (address >>> 32));
        return this;
    }

    /** Sets {@code ramdisk_image}/{@code ramdisk_size} (and their {@code ext_} upper halves); 0, 0 for none. */
    public BootParams ramdisk(long address, long size) {
        page.putInt(HDR_RAMDISK_IMAGE, (int) address);
        page.putInt(EXT_RAMDISK_IMAGE, (int) (address >>> 32));
        page.putInt(HDR_RAMDISK_SIZE, (int) size);
        page.putInt(EXT_RAMDISK_SIZE, (int) (size >>> 32));
        return this;
    }

    /**
     * Sets {@code e820_entries} and {@code e820_table}.
     *
     * @throws LinuxBootException when there are more than {@link #MAX_E820_ENTRIES} entries
     */
    public BootParams e820(List<E820Entry> entries) {
        if (entries.size() > MAX_E820_ENTRIES) {
            throw new LinuxBootException("the memory map has " + entries.size() + " entries; the zero page holds "
                    + MAX_E820_ENTRIES);
        }
        byte[] table = E820Map.encode(entries);
        page.put(E820_TABLE, new byte[MAX_E820_ENTRIES * E820Map.ENTRY_SIZE]);
        page.put(E820_TABLE, table);
        page.put(E820_ENTRIES, (byte) entries.size());
        return this;
    }

    /** Sets {@code acpi_rsdp_addr} (boot protocol 2.14+), so Linux need not scan for the RSDP; 0 for none. */
    public BootParams acpiRsdp(long address) {
        page.putLong(ACPI_RSDP_ADDR, address);
        return this;
    }

    /** A copy of the 4 KiB page. */
    public byte[] bytes() {
        return page.array().clone();
    }
}
