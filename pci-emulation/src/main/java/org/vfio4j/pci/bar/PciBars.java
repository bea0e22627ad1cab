package org.vfio4j.pci.bar;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.PciHeaders;

/**
 * The base address registers and the expansion ROM BAR of one function, living in its {@link ConfigSpace}.
 *
 * <p>The sizing protocol falls out of the register masks, as on hardware: the address bits below the BAR's size
 * and the type flags are read-only, so after the guest writes all-ones it reads back {@code ~(size - 1)} with the
 * flags. A 64-bit BAR's upper register is sized the same way. For the ROM BAR, bit 0 (enable) is writable, bits
 * 10:1 are reserved zero, and the address bits start at 2 KiB granularity. Unimplemented BARs read zero and ignore
 * writes.
 *
 * <p>All state is guarded by the config space's monitor, which guest accesses hold while hooks run.
 *
 * <p>Defining a BAR marks its registers emulated: a passthrough device virtualizes BARs (the guest address space is
 * not the host's). A guest write that moves a BAR or toggles a decode enable returns that from
 * {@link ConfigSpace#guestWrite} ({@link ConfigChange.BarMoved}, {@link ConfigChange.DecodeChanged},
 * {@link ConfigChange.RomEnableChanged}); the owner then asks {@link #isDecoding} and {@link #address} where the BAR
 * decodes now. A BAR is decoding when its address is assigned and the command register's memory (or I/O) enable is
 * set; for the ROM BAR, additionally its own enable bit.
 */
public final class PciBars {
    /** Index that names the expansion ROM BAR in this API. */
    public static final int ROM = 6;
    /** Smallest expansion ROM: 2 KiB (the address field starts at bit 11). */
    public static final long MIN_ROM_SIZE = 2048;
    private static final int ROM_ADDRESS_MASK = 0xFFFF_F800;

    private final ConfigSpace cs;
    private final int barCount;
    private final int romOffset;
    private final BarDefinition[] definitions = new BarDefinition[6];
    private long romSize;
    private final long[] lastAddress = new long[ROM + 1];
    private boolean lastMemoryDecode;
    private boolean lastIoDecode;
    private boolean lastRomEnable;

    /** BARs of the function whose header (type 0: six BARs, ROM at 0x30; type 1: two, ROM at 0x38) is in {@code cs}. */
    public PciBars(ConfigSpace cs) {
        this.cs = cs;
        int type = PciHeaders.headerType(cs);
        if (type == PCI_HEADER_TYPE_NORMAL) {
            barCount = 6;
            romOffset = PCI_ROM_ADDRESS;
        } else if (type == PCI_HEADER_TYPE_BRIDGE) {
            barCount = 2;
            romOffset = PCI_ROM_ADDRESS1;
        } else {
            throw new IllegalArgumentException(cs.name() + ": header type " + type + " has no BAR layout here");
        }
        int command = cs.getWord(PCI_COMMAND);
        lastMemoryDecode = (command & PCI_COMMAND_MEMORY) != 0;
        lastIoDecode = (command & PCI_COMMAND_IO) != 0;
        cs.addWriteHook(PCI_BASE_ADDRESS_0, barCount * 4, (o, s, v, b, a) -> barsWritten(o, s));
        cs.addWriteHook(romOffset, 4, (o, s, v, b, a) -> romWritten());
        cs.addWriteHook(PCI_COMMAND, 2, (o, s, v, b, a) -> commandWritten());
    }

    /** How many BAR registers the header has: 6 (type 0) or 2 (type 1). */
    public int registerCount() {
        return barCount;
    }

    /** Implements a BAR: writes its flags and size mask; the address starts at zero (unassigned). */
    public void define(BarDefinition bar) {
        synchronized (cs) {
            defineLocked(bar);
        }
    }

    private void defineLocked(BarDefinition bar) {
        int last = bar.index() + (bar.type() == BarType.MEMORY64 ? 1 : 0);
        if (last >= barCount) {
            throw new IllegalArgumentException(cs.name() + ": BAR " + bar.index() + " (" + bar.type()
                    + ") does not fit in " + barCount + " BAR registers");
        }
        for (int i = bar.index(); i <= last; i++) {
            if (occupant(i) >= 0) {
                throw new IllegalArgumentException(cs.name() + ": BAR register " + i + " already used by BAR "
                        + occupant(i));
            }
        }
        definitions[bar.index()] = bar;
        int reg = PCI_BASE_ADDRESS_0 + 4 * bar.index();
        long mask = ~(bar.size() - 1);
        cs.setEmulatedRange(reg, (last - bar.index() + 1) * 4, true);
        cs.setDword(reg, bar.flags());
        switch (bar.type()) {
            case IO -> cs.setWritable(reg, 4, mask & 0xFFFF_FFFCL);
            case MEMORY32 -> cs.setWritable(reg, 4, mask & 0xFFFF_FFF0L);
            case MEMORY64 -> {
                cs.setWritable(reg, 4, mask & 0xFFFF_FFF0L);
                cs.setDword(reg + 4, 0);
                cs.setWritable(reg + 4, 4, (mask >>> 32) & 0xFFFF_FFFFL);
            }
        }
        lastAddress[bar.index()] = 0;
    }

    /** Implements the expansion ROM BAR with a power-of-two {@code size} of at least 2 KiB (at most 16 MiB). */
    public void defineRom(long size) {
        synchronized (cs) {
            defineRomLocked(size);
        }
    }

    private void defineRomLocked(long size) {
        if (size < MIN_ROM_SIZE || size > (16L << 20) || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException(cs.name() + ": ROM size " + size
                    + " must be a power of two in 2 KiB..16 MiB");
        }
        romSize = size;
        cs.setEmulatedRange(romOffset, 4, true);
        cs.setDword(romOffset, 0);
        cs.setWritable(romOffset, 4, (~(size - 1) & ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE);
        lastAddress[ROM] = 0;
        lastRomEnable = false;
    }

    /** The definition of BAR {@code index} (the lower register of a 64-bit BAR), if implemented. */
    public Optional<BarDefinition> definition(int index) {
        return index >= 0 && index < 6 ? Optional.ofNullable(definitions[index]) : Optional.empty();
    }

    /** The implemented BARs in index order. */
    public List<BarDefinition> definitions() {
        return java.util.Arrays.stream(definitions).filter(d -> d != null).toList();
    }

    /** The ROM size, or 0 when the function has no expansion ROM. */
    public long romSize() {
        return romSize;
    }

    /** The address BAR {@code index} (or {@link #ROM}) holds now, flags stripped; 0 when not implemented. */
    public long address(int index) {
        if (index == ROM) {
            return romSize == 0 ? 0 : cs.getDword(romOffset) & ROM_ADDRESS_MASK & 0xFFFF_FFFFL;
        }
        BarDefinition d = definition(index).orElse(null);
        if (d == null) {
            return 0;
        }
        int reg = PCI_BASE_ADDRESS_0 + 4 * index;
        long lo = cs.getDword(reg) & 0xFFFF_FFFFL;
        return switch (d.type()) {
            case IO -> lo & ~0x3L;
            case MEMORY32 -> lo & ~0xFL;
            case MEMORY64 -> ((cs.getDword(reg + 4) & 0xFFFF_FFFFL) << 32) | (lo & ~0xFL);
        };
    }

    /** The size of BAR {@code index} (or {@link #ROM}); 0 when not implemented. */
    public long size(int index) {
        if (index == ROM) {
            return romSize;
        }
        return definition(index).map(BarDefinition::size).orElse(0L);
    }

    /**
     * True when BAR {@code index} (or {@link #ROM}) decodes guest accesses now: implemented, its space enabled in
     * the command register (and, for the ROM, its enable bit set), and holding an address that is assigned (not 0)
     * and whose whole range fits below the top of its space: a memory BAR whose last byte would be the space's
     * last address is the all-ones sizing pattern (QEMU treats it as unmapped the same way); I/O must end within
     * the 64 KiB x86 port space.
     */
    public boolean isDecoding(int index) {
        synchronized (cs) {
            return decoding(index);
        }
    }

    private boolean decoding(int index) {
        long size = size(index);
        if (size == 0) {
            return false;
        }
        int command = cs.getWord(PCI_COMMAND);
        long addr = address(index);
        if (index == ROM) {
            return (command & PCI_COMMAND_MEMORY) != 0 && (cs.getDword(romOffset) & PCI_ROM_ADDRESS_ENABLE) != 0
                    && addr != 0 && addr + size < (1L << 32);
        }
        BarDefinition d = definitions[index];
        return switch (d.type()) {
            case IO -> (command & PCI_COMMAND_IO) != 0 && addr != 0 && addr + size <= 0x1_0000;
            case MEMORY32 -> (command & PCI_COMMAND_MEMORY) != 0 && addr != 0 && addr + size < (1L << 32);
            case MEMORY64 -> (command & PCI_COMMAND_MEMORY) != 0 && addr != 0
                    && Long.compareUnsigned(addr, -size) < 0;
        };
    }

    private int occupant(int register) {
        for (int i = 0; i < 6; i++) {
            BarDefinition d = definitions[i];
            if (d != null && (i == register || (d.type() == BarType.MEMORY64 && i + 1 == register))) {
                return i;
            }
        }
        return -1;
    }

    private List<ConfigChange> barsWritten(int offset, int size) {
        int reg = (offset - PCI_BASE_ADDRESS_0) / 4; // a config access never crosses a dword: one register
        int index = reg >= 0 && reg < barCount ? occupant(reg) : -1;
        ConfigChange moved = index >= 0 ? moved(index) : null;
        return moved == null ? List.of() : List.of(moved);
    }

    private List<ConfigChange> romWritten() {
        if (romSize == 0) {
            return List.of();
        }
        List<ConfigChange> changes = new ArrayList<>(2);
        ConfigChange moved = moved(ROM);
        if (moved != null) {
            changes.add(moved);
        }
        boolean enable = (cs.getDword(romOffset) & PCI_ROM_ADDRESS_ENABLE) != 0;
        if (enable != lastRomEnable) {
            lastRomEnable = enable;
            changes.add(new ConfigChange.RomEnableChanged(enable));
        }
        return changes;
    }

    private List<ConfigChange> commandWritten() {
        int command = cs.getWord(PCI_COMMAND);
        boolean mem = (command & PCI_COMMAND_MEMORY) != 0;
        boolean io = (command & PCI_COMMAND_IO) != 0;
        List<ConfigChange> changes = List.of();
        if (mem != lastMemoryDecode) {
            lastMemoryDecode = mem;
            changes = new ArrayList<>(2);
            changes.add(new ConfigChange.DecodeChanged(true, mem));
        }
        if (io != lastIoDecode) {
            lastIoDecode = io;
            if (changes.isEmpty()) {
                changes = new ArrayList<>(1);
            }
            changes.add(new ConfigChange.DecodeChanged(false, io));
        }
        return changes;
    }

    /** The move of BAR {@code index} since the last write that touched it, or null when it did not move. */
    private ConfigChange moved(int index) {
        long now = address(index);
        long before = lastAddress[index];
        if (now == before) {
            return null;
        }
        lastAddress[index] = now;
        return new ConfigChange.BarMoved(index, before, now);
    }
}
