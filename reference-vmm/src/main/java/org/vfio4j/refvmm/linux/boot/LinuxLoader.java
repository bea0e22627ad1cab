package org.vfio4j.refvmm.linux.boot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.vfio4j.core.memory.E820Entry;
import org.vfio4j.core.memory.E820Map;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.memory.ReservedRange;

/**
 * Places a bzImage, its initrd and command line in guest RAM for the 64-bit boot protocol and writes them with the
 * zero page, GDT and page tables. Every check runs before the first write, so a guest that cannot boot is refused
 * with guest RAM untouched.
 *
 * <p>Layout (the reference VMM's): GDT at 0x500, zero page at 0x7000, page tables at 0x9000-0xEFFF, command line at
 * 0x20000, 0x9FC00-0x100000 reserved (legacy BIOS area, ACPI tables at 0xE0000), the kernel at its load address,
 * the initrd page-aligned as high as it fits below {@code initrd_addr_max} and 4 GiB, clear of the kernel's
 * {@code init_size}.
 */
public final class LinuxLoader {
    /** Where the zero page goes (RSI). */
    public static final long BOOT_PARAMS_ADDRESS = 0x7000;
    /** Where the command line goes. */
    public static final long COMMAND_LINE_ADDRESS = 0x2_0000;
    /** The room for the command line at {@link #COMMAND_LINE_ADDRESS}, NUL included. */
    public static final int COMMAND_LINE_ROOM = 4096;
    /** The start of the reserved legacy area (EBDA, VGA hole, BIOS; the ACPI tables at 0xE0000). */
    public static final long LEGACY_RESERVED_START = 0x9_FC00;
    /** The end of the reserved legacy area: 1 MiB. */
    public static final long LEGACY_RESERVED_END = 0x10_0000;
    /** Offset of the 64-bit entry point from the load address. */
    public static final long ENTRY_64_OFFSET = 0x200;

    private static final long PAGE = 4096;
    private static final long FOUR_GIB = 1L << 32;
    /** The low area the loader's own structures occupy: GDT up to the end of the command line room. */
    private static final long FIXED_START = LongModeTables.GDT_ADDRESS;
    private static final long FIXED_END = COMMAND_LINE_ADDRESS + COMMAND_LINE_ROOM;

    private LinuxLoader() {
    }

    /**
     * Reads an initrd file.
     *
     * @throws LinuxBootException when it is missing or unreadable, naming the path
     */
    public static byte[] readInitrd(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new LinuxBootException("initrd " + file + ": no such file", e);
        } catch (IOException e) {
            throw new LinuxBootException("initrd " + file + ": cannot read it: " + e, e);
        }
    }

    /**
     * Checks that everything fits, then writes GDT, page tables, zero page, command line, kernel and initrd through
     * {@code memory}.
     *
     * @throws LinuxBootException before any write when the command line is too long, the memory map has too many
     *     entries, or the kernel (load address + {@code init_size}) or the initrd do not fit in usable RAM
     */
    public static LinuxBootSetup load(LinuxBootRequest request, GuestPhysicalWriter memory) {
        BzImage kernel = request.kernel();
        byte[] commandLine = request.commandLine().getBytes(StandardCharsets.UTF_8);
        if (commandLine.length > kernel.cmdlineSize()) {
            throw new LinuxBootException("the command line is " + commandLine.length + " bytes; " + kernel.name()
                    + " accepts at most " + kernel.cmdlineSize() + " (cmdline_size)");
        }
        if (commandLine.length + 1 > COMMAND_LINE_ROOM) {
            throw new LinuxBootException("the command line is " + commandLine.length + " bytes; this VMM has room for "
                    + (COMMAND_LINE_ROOM - 1) + " at " + hex(COMMAND_LINE_ADDRESS));
        }
        List<ReservedRange> reserved = new ArrayList<>(request.reserved());
        reserved.add(new ReservedRange(LEGACY_RESERVED_START, LEGACY_RESERVED_END - LEGACY_RESERVED_START,
                E820Type.RESERVED, "EBDA, VGA hole, BIOS area and ACPI tables"));
        List<E820Entry> e820 = E820Map.build(request.ram(), reserved);
        if (e820.size() > BootParams.MAX_E820_ENTRIES) {
            throw new LinuxBootException("the memory map has " + e820.size() + " entries; the zero page holds "
                    + BootParams.MAX_E820_ENTRIES);
        }
        List<E820Entry> usable = e820.stream().filter(e -> e.type() == E820Type.RAM).toList();
        if (ramAround(usable, FIXED_START, FIXED_END).isEmpty()) {
            throw new LinuxBootException("guest RAM must be usable at " + hex(FIXED_START) + "-" + hex(FIXED_END)
                    + " for the GDT, zero page, page tables and command line; the memory map is " + e820);
        }

        long kernelAddress = kernel.loadAddress();
        byte[] kernelBytes = kernel.protectedModeKernel();
        long kernelEnd = kernelAddress + Math.max(kernel.initSize(), kernelBytes.length);
        if (ramAround(usable, kernelAddress, kernelEnd).isEmpty()) {
            throw new LinuxBootException(String.format("guest RAM is too small for %s: it needs usable RAM at "
                    + "0x%x-0x%x (init_size 0x%x at load address 0x%x)%s; the memory map is %s", kernel.name(),
                    kernelAddress, kernelEnd, kernel.initSize(), kernelAddress,
                    request.initrd().length > 0 ? " plus " + request.initrd().length + " bytes of initrd" : "",
                    e820));
        }

        long initrdAddress = 0;
        long initrdSize = request.initrd().length;
        if (initrdSize > 0) {
            long limit = Math.min(kernel.initrdAddrMax() + 1, FOUR_GIB);
            List<E820Entry> free = subtract(usable, List.of(new E820Entry(0, LEGACY_RESERVED_END, E820Type.RESERVED),
                    new E820Entry(kernelAddress, kernelEnd - kernelAddress, E820Type.RESERVED)));
            Optional<Long> below = highestFit(free, initrdSize, limit);
            if (below.isEmpty()) {
                Optional<Long> anywhere = highestFit(free, initrdSize, Long.MAX_VALUE);
                if (anywhere.isPresent()) {
                    throw new LinuxBootException(String.format("the initrd (%d bytes) only fits at 0x%x, above "
                            + "%s's highest initrd address 0x%x (initrd_addr_max, or 4 GiB)", initrdSize,
                            anywhere.get(), kernel.name(), limit - 1));
                }
                throw new LinuxBootException(String.format("guest RAM is too small for %s and the initrd: the "
                        + "kernel takes 0x%x-0x%x (init_size at the load address), and %d bytes of initrd fit "
                        + "nowhere else in usable RAM; the memory map is %s", kernel.name(), kernelAddress,
                        kernelEnd, initrdSize, e820));
            }
            initrdAddress = below.get();
        }

        BootParams params = new BootParams(kernel)
                .commandLine(COMMAND_LINE_ADDRESS)
                .ramdisk(initrdAddress, initrdSize)
                .e820(e820)
                .acpiRsdp(request.acpiRsdpAddress());
        LongModeTables.write(memory);
        memory.write(BOOT_PARAMS_ADDRESS, params.bytes());
        byte[] terminated = new byte[commandLine.length + 1];
        System.arraycopy(commandLine, 0, terminated, 0, commandLine.length);
        memory.write(COMMAND_LINE_ADDRESS, terminated);
        memory.write(kernelAddress, kernelBytes);
        if (initrdSize > 0) {
            memory.write(initrdAddress, request.initrd());
        }
        return new LinuxBootSetup(kernelAddress + ENTRY_64_OFFSET, BOOT_PARAMS_ADDRESS, LongModeTables.registers(),
                e820, kernelAddress, kernelEnd, initrdAddress, initrdSize, COMMAND_LINE_ADDRESS, commandLine.length);
    }

    /** The usable-RAM entry holding all of {@code [start, end)}, if one does. */
    private static Optional<E820Entry> ramAround(List<E820Entry> usable, long start, long end) {
        return usable.stream().filter(e -> e.address() <= start && end <= e.end()).findFirst();
    }

    /** {@code ranges} with every byte of {@code holes} taken out. */
    private static List<E820Entry> subtract(List<E820Entry> ranges, List<E820Entry> holes) {
        List<E820Entry> out = new ArrayList<>(ranges);
        for (E820Entry h : holes) {
            List<E820Entry> next = new ArrayList<>();
            for (E820Entry r : out) {
                if (h.end() <= r.address() || r.end() <= h.address()) {
                    next.add(r);
                    continue;
                }
                if (r.address() < h.address()) {
                    next.add(new E820Entry(r.address(), h.address() - r.address(), r.type()));
                }
                if (h.end() < r.end()) {
                    next.add(new E820Entry(h.end(), r.end() - h.end(), r.type()));
                }
            }
            out = next;
        }
        return out;
    }

    /** The highest page-aligned address where {@code size} bytes fit inside one range and end at or below {@code limit}. */
    private static Optional<Long> highestFit(List<E820Entry> ranges, long size, long limit) {
        return ranges.stream()
                .map(r -> (Math.min(r.end(), limit) - size) & -PAGE)
                .filter(a -> ranges.stream().anyMatch(r -> r.address() <= a && a + size <= Math.min(r.end(), limit)))
                .max(Comparator.naturalOrder());
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
