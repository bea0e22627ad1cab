package org.vfio4j.refvmm.linux.pci;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfio4j.pci.bus.PciAddress;
import org.vfio4j.pci.bus.PciHostBridge;

/**
 * Does before the kernel starts what SeaBIOS or OVMF do for the root bus: enumerates its functions (scanning
 * functions 1..7 of multi-function slots), sizes every BAR and the expansion ROM with the all-ones protocol, places
 * them, then programs the command register and the interrupt line. All accesses go through the host bridge's
 * configuration access path, exactly as a guest's CF8/CFC or ECAM accesses would, so emulated and passthrough
 * functions are treated alike.
 *
 * <p>Placement, largest first, each naturally aligned:
 * <ul>
 *   <li>I/O BARs in the I/O window;</li>
 *   <li>32-bit memory BARs and expansion ROMs (written with the enable bit clear) in the 32-bit window;</li>
 *   <li>64-bit memory BARs, prefetchable or not, in the 64-bit window above 4 GiB (as OVMF does; the DSDT's 64-bit
 *       window is non-prefetchable, so Linux accepts non-prefetchable BARs there).</li>
 * </ul>
 * Memory BARs smaller than 4 KiB still get a 4 KiB aligned 4 KiB slot (as SeaBIOS does), so no two functions share
 * a page and passthrough BARs can be mapped into the guest.
 *
 * <p>Command register: I/O space when the function has an I/O BAR, memory space when it has a memory BAR (the ROM
 * does not count). Bus mastering stays off: a function may DMA only once the guest's driver turns it on (Linux's
 * pci_set_master), as SeaBIOS leaves every device it does not drive itself. Interrupt line: for pin P of slot S, {@link IntxRouting#gsi(int, int)}.
 * Bridges get their own two BARs and ROM placed; nothing behind them is configured (a flat root bus).
 */
public final class PciResourceAssigner {
    /** Smallest slot a memory BAR gets. */
    static final long MIN_MEMORY_SLOT = 4096;
    private static final long ROM_ADDRESS_MASK = 0xFFFF_F800L;

    private final PciHostBridge hostBridge;
    private final PciWindows windows;

    /** An assigner for the root bus of {@code hostBridge} with the {@link PciWindows#STANDARD} windows. */
    public PciResourceAssigner(PciHostBridge hostBridge) {
        this(hostBridge, PciWindows.STANDARD);
    }

    /** An assigner for the root bus of {@code hostBridge} placing BARs in {@code windows}. */
    public PciResourceAssigner(PciHostBridge hostBridge, PciWindows windows) {
        this.hostBridge = hostBridge;
        this.windows = windows;
    }

    /**
     * Sizes and places every BAR of every function on bus 0, programs command and interrupt line registers and
     * returns what it did, one entry per function in bus order. Throws {@link IllegalStateException} naming the
     * function and BAR when a BAR does not fit its window (a configuration error, before the guest runs); then no
     * register has been changed yet.
     */
    public List<AssignedFunction> assign() {
        List<Probed> probed = new ArrayList<>();
        for (PciAddress a : enumerate()) {
            probed.add(probe(a));
        }
        Map<Sized, Long> placed = place(probed);
        List<AssignedFunction> out = new ArrayList<>();
        for (Probed p : probed) {
            out.add(program(p, placed));
        }
        return out;
    }

    /** The functions on bus 0, found the way a guest scans: vendor ID per slot, functions 1..7 only when MFD. */
    private List<PciAddress> enumerate() {
        List<PciAddress> out = new ArrayList<>();
        for (int slot = 0; slot < 32; slot++) {
            if (read(slot, 0, PCI_VENDOR_ID, 2) == 0xFFFF) {
                continue;
            }
            boolean multi = (read(slot, 0, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD) != 0;
            for (int fn = 0; fn < (multi ? 8 : 1); fn++) {
                if (read(slot, fn, PCI_VENDOR_ID, 2) != 0xFFFF) {
                    out.add(new PciAddress(0, slot, fn));
                }
            }
        }
        return out;
    }

    private Probed probe(PciAddress a) {
        int d = a.device();
        int f = a.function();
        int headerType = (int) read(d, f, PCI_HEADER_TYPE, 1) & 0x7F;
        int barCount = headerType == PCI_HEADER_TYPE_NORMAL ? 6 : headerType == PCI_HEADER_TYPE_BRIDGE ? 2 : 0;
        int romReg = headerType == PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
        List<Sized> bars = new ArrayList<>();
        long command = read(d, f, PCI_COMMAND, 2);
        write(d, f, PCI_COMMAND, 2, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
        for (int i = 0; i < barCount; i++) {
            int reg = PCI_BASE_ADDRESS_0 + 4 * i;
            long mask = sizeRegister(d, f, reg, 0xFFFF_FFFFL);
            if (mask == 0) {
                continue;
            }
            if ((mask & PCI_BASE_ADDRESS_SPACE_IO) != 0) {
                long m = mask & ~0x3L;
                if ((m & 0xFFFF_0000L) == 0) {
                    m |= 0xFFFF_0000L; // a 16-bit decoder hardwires the upper half to 0
                }
                if (m != 0) {
                    bars.add(new Sized(a, i, BarKind.IO, false, Long.lowestOneBit(m)));
                }
                continue;
            }
            boolean prefetch = (mask & PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
            if ((mask & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
                if (i + 1 == barCount) {
                    continue; // a 64-bit BAR in the last register cannot be programmed: leave it alone
                }
                long hi = sizeRegister(d, f, reg + 4, 0xFFFF_FFFFL);
                long m = hi << 32 | (mask & ~0xFL);
                if (m != 0) {
                    bars.add(new Sized(a, i, BarKind.MEMORY64, prefetch, Long.lowestOneBit(m)));
                }
                i++;
            } else if ((mask & ~0xFL) != 0) {
                bars.add(new Sized(a, i, BarKind.MEMORY32, prefetch, Long.lowestOneBit(mask & ~0xFL)));
            }
        }
        if (barCount > 0) {
            long rom = sizeRegister(d, f, romReg, ROM_ADDRESS_MASK) & ROM_ADDRESS_MASK;
            if (rom != 0) {
                bars.add(new Sized(a, BarAssignment.ROM_INDEX, BarKind.ROM, false, Long.lowestOneBit(rom)));
            }
        }
        write(d, f, PCI_COMMAND, 2, command);
        return new Probed(a, romReg, bars);
    }

    /** Writes {@code probe}, reads the register back, restores the original value; returns what was read. */
    private long sizeRegister(int d, int f, int reg, long probe) {
        long orig = read(d, f, reg, 4);
        write(d, f, reg, 4, probe);
        long mask = read(d, f, reg, 4);
        write(d, f, reg, 4, orig);
        return mask;
    }

    private Map<Sized, Long> place(List<Probed> probed) {
        List<Sized> all = new ArrayList<>();
        probed.forEach(p -> all.addAll(p.bars()));
        // Largest first keeps every placement naturally aligned without holes; ties keep bus order (stable sort).
        all.sort(Comparator.comparingLong(PciResourceAssigner::slotSize).reversed());
        Map<PciWindow, Long> next = new LinkedHashMap<>();
        Map<Sized, Long> out = new LinkedHashMap<>();
        for (Sized b : all) {
            PciWindow w = windowOf(b);
            long slot = slotSize(b);
            long at = (next.getOrDefault(w, w.base()) + slot - 1) & -slot;
            if (!w.contains(at, slot) || at < w.base()) {
                throw new IllegalStateException(String.format(
                        "PCI %s %s (%s%s, 0x%x bytes) does not fit in the %s window %s", b.function(),
                        b.index() == BarAssignment.ROM_INDEX ? "ROM" : "BAR " + b.index(), b.kind().label(),
                        b.prefetchable() ? " prefetchable" : "", b.size(), windowName(b), w));
            }
            next.put(w, at + slot);
            out.put(b, at);
        }
        return out;
    }

    private AssignedFunction program(Probed p, Map<Sized, Long> placed) {
        int d = p.address().device();
        int f = p.address().function();
        List<BarAssignment> bars = new ArrayList<>();
        int command = 0;
        for (Sized b : p.bars()) {
            long at = placed.get(b);
            if (b.kind() == BarKind.ROM) {
                write(d, f, p.romRegister(), 4, at & ROM_ADDRESS_MASK); // enable bit clear
            } else {
                int reg = PCI_BASE_ADDRESS_0 + 4 * b.index();
                write(d, f, reg, 4, at & 0xFFFF_FFFFL);
                if (b.kind() == BarKind.MEMORY64) {
                    write(d, f, reg + 4, 4, at >>> 32);
                }
                command |= b.kind() == BarKind.IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
            }
            bars.add(new BarAssignment(b.index(), b.kind(), b.prefetchable(), b.size(), at));
        }
        long cmd = read(d, f, PCI_COMMAND, 2) | command;
        write(d, f, PCI_COMMAND, 2, cmd);
        int pin = (int) read(d, f, PCI_INTERRUPT_PIN, 1);
        int gsi = -1;
        if (pin >= 1 && pin <= 4) {
            gsi = IntxRouting.gsi(d, pin);
            write(d, f, PCI_INTERRUPT_LINE, 1, gsi);
        }
        long ids = read(d, f, PCI_VENDOR_ID, 4);
        long classRev = read(d, f, PCI_CLASS_REVISION, 4);
        return new AssignedFunction(p.address(), (int) (ids & 0xFFFF), (int) (ids >>> 16), (int) (classRev >>> 8),
                (int) read(d, f, PCI_COMMAND, 2), pin, gsi, bars);
    }

    private PciWindow windowOf(Sized b) {
        return switch (b.kind()) {
            case IO -> windows.io();
            case MEMORY32, ROM -> windows.mem32();
            case MEMORY64 -> windows.mem64();
        };
    }

    private static String windowName(Sized b) {
        return switch (b.kind()) {
            case IO -> "I/O";
            case MEMORY32, ROM -> "32-bit memory";
            case MEMORY64 -> "64-bit memory";
        };
    }

    private static long slotSize(Sized b) {
        return b.kind() == BarKind.IO ? b.size() : Math.max(b.size(), MIN_MEMORY_SLOT);
    }

    private long read(int device, int fn, int offset, int size) {
        return hostBridge.read(0, device, fn, offset, size);
    }

    private void write(int device, int fn, int offset, int size, long value) {
        hostBridge.write(0, device, fn, offset, size, value);
    }

    /** A BAR found by sizing. */
    private record Sized(PciAddress function, int index, BarKind kind, boolean prefetchable, long size) {
    }

    /** A function's sized BARs and where its ROM register is. */
    private record Probed(PciAddress address, int romRegister, List<Sized> bars) {
    }
}
