package org.vfio4j.pci.bus;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.vfio4j.pci.bar.BarType;
import org.vfio4j.pci.config.ConfigAccess;

/**
 * Places BARs for guests that boot without firmware (direct kernel boot), doing what firmware's PCI enumeration
 * does: size every BAR with the all-ones protocol through configuration accesses (so it works for emulated and
 * passthrough functions alike), assign naturally aligned addresses from the given windows, largest first, and turn
 * on I/O and memory decode for functions that got addresses.
 *
 * <p>Placement: I/O BARs in the I/O window; 64-bit prefetchable BARs in the 64-bit window when one is given, else
 * the 32-bit window; all other memory BARs and expansion ROMs (left disabled) in the 32-bit window. Functions
 * behind bridges are not handled: this is for a flat root bus.
 */
public final class BarAllocator {
    private static final int ROM_ADDRESS_MASK = 0xFFFF_F800;

    /**
     * An address window.
     *
     * @param base first address
     * @param size bytes
     */
    public record Window(long base, long size) {
        /** Validates the window. */
        public Window {
            if (size <= 0 || base < 0) {
                throw new IllegalArgumentException("bad window base 0x" + Long.toHexString(base) + " size " + size);
            }
        }
    }

    /**
     * A BAR found by sizing.
     *
     * @param function     the function's address
     * @param index        BAR index, or {@link org.vfio4j.pci.bar.PciBars#ROM} for the expansion ROM
     * @param type         decoded type (ROM reported as 32-bit memory)
     * @param size         decoded size
     * @param prefetchable prefetchable flag
     */
    public record ProbedBar(PciAddress function, int index, BarType type, long size, boolean prefetchable) {
    }

    /**
     * A placed BAR.
     *
     * @param bar     what was sized
     * @param address the address written to it
     */
    public record Assignment(ProbedBar bar, long address) {
    }

    private final Window io;
    private final Window mem32;
    private final Window mem64;

    /** Allocates from these windows; {@code mem64} may be null (then everything goes below 4 GiB). */
    public BarAllocator(Window io, Window mem32, Window mem64) {
        this.io = io;
        this.mem32 = mem32;
        this.mem64 = mem64;
        if (io.base() + io.size() > 0x1_0000) {
            throw new IllegalArgumentException("I/O window must end below 64 KiB");
        }
        if (mem32.base() + mem32.size() > (1L << 32)) {
            throw new IllegalArgumentException("32-bit window must end below 4 GiB");
        }
    }

    /** Sizes every BAR of every function on {@code bus}, restoring each register afterwards. */
    public static List<ProbedBar> probe(PciBus bus) {
        List<ProbedBar> out = new ArrayList<>();
        for (PciAddress a : bus.addresses()) {
            out.addAll(probe(a, bus.function(a.device(), a.function())));
        }
        return out;
    }

    /** Sizes the BARs of one function with the all-ones protocol, decode disabled meanwhile. */
    public static List<ProbedBar> probe(PciAddress address, ConfigAccess f) {
        List<ProbedBar> out = new ArrayList<>();
        int headerType = (int) f.read(PCI_HEADER_TYPE, 1) & 0x7F;
        int bars;
        int romReg;
        if (headerType == PCI_HEADER_TYPE_NORMAL) {
            bars = 6;
            romReg = PCI_ROM_ADDRESS;
        } else if (headerType == PCI_HEADER_TYPE_BRIDGE) {
            bars = 2;
            romReg = PCI_ROM_ADDRESS1;
        } else {
            return out;
        }
        long command = f.read(PCI_COMMAND, 2);
        f.write(PCI_COMMAND, 2, command & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
        for (int i = 0; i < bars; i++) {
            int reg = PCI_BASE_ADDRESS_0 + 4 * i;
            long orig = f.read(reg, 4);
            f.write(reg, 4, 0xFFFF_FFFFL);
            long mask = f.read(reg, 4);
            f.write(reg, 4, orig);
            if (mask == 0 || mask == 0xFFFF_FFFFL && orig == 0xFFFF_FFFFL) {
                continue; // unimplemented (or nothing answers)
            }
            if ((mask & PCI_BASE_ADDRESS_SPACE_IO) != 0) {
                long size = (~(mask & ~0x3L) + 1) & 0xFFFF_FFFFL;
                out.add(new ProbedBar(address, i, BarType.IO, size & -size, false));
                continue;
            }
            boolean prefetch = (mask & PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
            if ((mask & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 && i + 1 < bars) {
                int hiReg = reg + 4;
                long origHi = f.read(hiReg, 4);
                f.write(hiReg, 4, 0xFFFF_FFFFL);
                long maskHi = f.read(hiReg, 4);
                f.write(hiReg, 4, origHi);
                long full = (maskHi << 32) | (mask & ~0xFL);
                long size = -full;
                out.add(new ProbedBar(address, i, BarType.MEMORY64, size & -size, prefetch));
                i++;
            } else {
                long size = (-(mask & ~0xFL)) & 0xFFFF_FFFFL;
                out.add(new ProbedBar(address, i, BarType.MEMORY32, size & -size, prefetch));
            }
        }
        long romOrig = f.read(romReg, 4);
        f.write(romReg, 4, ROM_ADDRESS_MASK);
        long romMask = f.read(romReg, 4) & ROM_ADDRESS_MASK;
        f.write(romReg, 4, romOrig);
        if (romMask != 0) {
            long size = (-romMask) & 0xFFFF_FFFFL;
            out.add(new ProbedBar(address, org.vfio4j.pci.bar.PciBars.ROM, BarType.MEMORY32, size & -size, false));
        }
        f.write(PCI_COMMAND, 2, command);
        return out;
    }

    /**
     * Sizes and places every BAR of every function on {@code bus}, then enables I/O and memory decode on the
     * functions that got I/O or memory BARs. Throws {@link IllegalStateException} when a window is too small:
     * a configuration error, reported before the guest runs.
     */
    public List<Assignment> assign(PciBus bus) {
        List<ProbedBar> probed = new ArrayList<>(probe(bus));
        probed.sort(Comparator.comparingLong(ProbedBar::size).reversed());
        long[] next = {io.base(), mem32.base(), mem64 == null ? 0 : mem64.base()};
        Window[] windows = {io, mem32, mem64};
        List<Assignment> out = new ArrayList<>();
        for (ProbedBar b : probed) {
            int w = b.type() == BarType.IO ? 0
                    : (b.type() == BarType.MEMORY64 && b.prefetchable() && mem64 != null) ? 2 : 1;
            long addr = (next[w] + b.size() - 1) & -b.size();
            Window win = windows[w];
            if (addr + b.size() > win.base() + win.size()) {
                throw new IllegalStateException("BAR " + b.index() + " of " + b.function() + " (" + b.size()
                        + " bytes, " + b.type() + ") does not fit in window " + win);
            }
            next[w] = addr + b.size();
            ConfigAccess f = bus.function(b.function().device(), b.function().function());
            if (b.index() == org.vfio4j.pci.bar.PciBars.ROM) {
                int romReg = ((int) f.read(PCI_HEADER_TYPE, 1) & 0x7F) == PCI_HEADER_TYPE_BRIDGE
                        ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
                f.write(romReg, 4, addr & ROM_ADDRESS_MASK);
            } else {
                int reg = PCI_BASE_ADDRESS_0 + 4 * b.index();
                f.write(reg, 4, addr & 0xFFFF_FFFFL);
                if (b.type() == BarType.MEMORY64) {
                    f.write(reg + 4, 4, addr >>> 32);
                }
            }
            out.add(new Assignment(b, addr));
        }
        for (PciAddress a : bus.addresses()) {
            int enable = 0;
            for (Assignment as : out) {
                if (as.bar().function().equals(a) && as.bar().index() != org.vfio4j.pci.bar.PciBars.ROM) {
                    enable |= as.bar().type() == BarType.IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
                }
            }
            if (enable != 0) {
                ConfigAccess f = bus.function(a.device(), a.function());
                f.write(PCI_COMMAND, 2, f.read(PCI_COMMAND, 2) | enable);
            }
        }
        return out;
    }
}
