package org.vfio4j.vfio.pci;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.BarType;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.caps.CapabilityEntry;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigPassthrough;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.msi.MsiCapability;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * The guest-visible config space of a passthrough function, built from the physical one read through VFIO's config
 * region. Which bits are emulated and why is tabled in {@code docs/config-space.md}; in short: BARs, ROM BAR,
 * interrupt line and pin, the header type's multi-function bit, the capability pointers the VMM rewrites, the MSI
 * and MSI-X capabilities, and hidden capabilities are emulated; the command register's decode bits are mirrored
 * (the VMM must see them) and also passed on; everything else reads and writes the device.
 */
final class VirtualConfig {
    private static final Logger LOG = LoggerFactory.getLogger(VirtualConfig.class);
    /** Extended capabilities the guest must not drive: SR-IOV (0x10), resizable BAR (0x15), VF resizable BAR (0x24). */
    static final int[] HIDDEN_EXTENDED = {PCI_EXT_CAP_ID_SRIOV, PCI_EXT_CAP_ID_REBAR, 0x24};
    /** Command bits whose state the VMM mirrors in its image (decode enables) while they also reach the device. */
    static final int COMMAND_MIRRORED = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

    final ConfigSpace cs;
    final CapabilityList caps;
    final PciBars bars;
    final MsiCapability msi;
    final MsixCapability msix;
    final List<String> hidden = new ArrayList<>();
    final int interruptPin;
    /** Whether the device answers at its memory BARs, as far as the VMM's writes reached it. */
    final MemoryGate gate;
    private final VfioRegion region;
    private final String name;

    private VirtualConfig(String name, VfioRegion region, ConfigSpace cs, CapabilityList caps, PciBars bars,
            MsiCapability msi, MsixCapability msix, int interruptPin, MemoryGate gate) {
        this.gate = gate;
        this.name = name;
        this.region = region;
        this.cs = cs;
        this.caps = caps;
        this.bars = bars;
        this.msi = msi;
        this.msix = msix;
        this.interruptPin = interruptPin;
    }

    /**
     * Reads the physical config space and builds the virtual one.
     *
     * @param regions region info by index (at least up to the config region)
     * @param msiVectors vectors VFIO offers for MSI (0 when none)
     * @param hasIntx VFIO offers INTx
     * @param intxLine value the interrupt line register starts with
     */
    static VirtualConfig build(String name, VfioRegion config, RegionInfo[] regions, int msiVectors,
            boolean hasIntx, int intxLine, Consumer<MsiMessage> msiSink, Consumer<MsiMessage> msixSink,
            GuestLog guestLog) {
        long regionSize = config.info().size();
        if (regionSize < PCI_CFG_SPACE_SIZE) {
            throw new VfioException(String.format("%s: config region is 0x%x bytes, less than a PCI header", name,
                    regionSize));
        }
        int length = regionSize >= PCI_CFG_SPACE_EXP_SIZE ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE;
        byte[] physical = new byte[length];
        config.read(0, physical, 0, length);
        int headerType = physical[PCI_HEADER_TYPE] & 0x7F;
        if (headerType != PCI_HEADER_TYPE_NORMAL) {
            throw new VfioException(name + ": header type " + headerType
                    + " is not a type 0 (endpoint) header; bridges cannot be passed through");
        }
        int[] physicalBars = new int[6];
        for (int i = 0; i < 6; i++) {
            physicalBars[i] = le32(physical, PCI_BASE_ADDRESS_0 + 4 * i);
        }

        ConfigSpace cs = ConfigSpace.copyOf(name, physical);
        // Everything reaches the device unless a rule below takes it over.
        cs.setEmulatedRange(0, length, false);
        int pmcsr = pmControl(physical);
        MemoryGate gate = new MemoryGate(pmcsr, pmcsr < 0 || (physical[pmcsr] & PCI_PM_CTRL_STATE_MASK) != PCI_D3HOT);
        cs.setPassthrough(new RegionBacking(name, config, gate, guestLog));

        // Command: the decode and bus-master bits are mirrored in the image (PciBars watches them) and passed on.
        // The guest starts with its BARs unassigned, so the device must not decode (or master) until the guest
        // programs it: clear those bits in the device too.
        int command = cs.getWord(PCI_COMMAND) & ~COMMAND_MIRRORED;
        config.write(PCI_COMMAND, 2, command);
        gate.commandMemory = false;
        cs.setWord(PCI_COMMAND, command);
        cs.setWritable(PCI_COMMAND, 2, COMMAND_MIRRORED);
        // Status: only "has capabilities" is the VMM's (it can hide every capability).
        cs.setEmulated(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
        // Header type: the VMM decides the guest topology, so the multi-function bit is its own.
        cs.setEmulated(PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_MFD);
        cs.clearBits(PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_MFD);
        // BARs and ROM: the guest's addresses are not the host's; unimplemented ones read zero.
        cs.clear(PCI_BASE_ADDRESS_0, 24);
        cs.setEmulatedRange(PCI_BASE_ADDRESS_0, 24, true);
        cs.clear(PCI_ROM_ADDRESS, 4);
        cs.setEmulatedRange(PCI_ROM_ADDRESS, 4, true);
        // Interrupt line is the VMM's routing; the pin is what VFIO can deliver.
        int pin = hasIntx ? physical[PCI_INTERRUPT_PIN] & 0xFF : 0;
        cs.setEmulatedRange(PCI_INTERRUPT_LINE, 2, true);
        cs.setByte(PCI_INTERRUPT_LINE, pin == 0 ? 0 : intxLine & 0xFF);
        cs.setWritable(PCI_INTERRUPT_LINE, 1, 0xFF);
        cs.setByte(PCI_INTERRUPT_PIN, pin);

        PciBars bars = new PciBars(cs);
        for (int i = 0; i < 6; i++) {
            RegionInfo r = regions[i];
            if (r == null || r.size() == 0) {
                continue;
            }
            bars.define(barDefinition(name, i, physicalBars[i], r.size()));
            if ((physicalBars[i] & (PCI_BASE_ADDRESS_SPACE_IO | PCI_BASE_ADDRESS_MEM_TYPE_MASK))
                    == PCI_BASE_ADDRESS_MEM_TYPE_64) {
                i++; // the upper half of a 64-bit BAR
            }
        }
        RegionInfo rom = regions[PciBars.ROM];
        if (rom != null && rom.size() > 0) {
            long size = Math.max(PciBars.MIN_ROM_SIZE, Long.highestOneBit(rom.size()));
            if (size != rom.size()) {
                size <<= 1; // round up to a power of two
            }
            bars.defineRom(Math.min(size, 16L << 20));
        }

        CapabilityList caps = new CapabilityList(cs);
        MsiCapability msi = null;
        CapabilityEntry.Standard msiEntry = caps.find(PCI_CAP_ID_MSI).orElse(null);
        if (msiEntry != null) {
            int flags = cs.getWord(msiEntry.offset() + PCI_MSI_FLAGS);
            int capable = 1 << Math.min(5, (flags & PCI_MSI_FLAGS_QMASK) >> 1);
            int vectors = Math.min(capable, msiVectors <= 0 ? 0 : Integer.highestOneBit(msiVectors));
            if (vectors == 0) {
                caps.hide(msiEntry);
            } else {
                msi = new MsiCapability(vectors, (flags & PCI_MSI_FLAGS_64BIT) != 0,
                        (flags & PCI_MSI_FLAGS_MASKBIT) != 0, msiSink);
                caps.replace(msiEntry, msi);
            }
        }
        MsixCapability msix = null;
        CapabilityEntry.Standard msixEntry = caps.find(PCI_CAP_ID_MSIX).orElse(null);
        if (msixEntry != null) {
            int flags = cs.getWord(msixEntry.offset() + PCI_MSIX_FLAGS);
            int table = cs.getDword(msixEntry.offset() + PCI_MSIX_TABLE);
            int pba = cs.getDword(msixEntry.offset() + PCI_MSIX_PBA);
            int vectors = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
            msix = new MsixCapability(vectors, table & PCI_MSIX_TABLE_BIR, Integer.toUnsignedLong(table & ~7),
                    pba & PCI_MSIX_TABLE_BIR, Integer.toUnsignedLong(pba & ~7), msixSink);
            caps.replace(msixEntry, msix);
        }
        // What the function cannot change while it runs is read from it once, until a reset: ids, revision and
        // class, header type, subsystem ids, the capability pointer, every capability's id and next pointer.
        // (ConfigSpace only caches the passed-through bits of these; the emulated ones come from the image anyway.)
        cs.setCachedRange(PCI_VENDOR_ID, 4);
        cs.setCachedRange(PCI_CLASS_REVISION, 4);
        cs.setCachedRange(PCI_HEADER_TYPE, 1);
        cs.setCachedRange(PCI_SUBSYSTEM_VENDOR_ID, 4);
        cs.setCachedRange(PCI_CAPABILITY_LIST, 1);
        for (CapabilityEntry.Standard e : caps.standard()) {
            cs.setCachedRange(e.offset(), 2);
        }
        if (length == PCI_CFG_SPACE_EXP_SIZE) {
            for (CapabilityEntry.Extended e : caps.extended()) {
                cs.setCachedRange(e.offset(), 4);
            }
        }
        VirtualConfig vc = new VirtualConfig(name, config, cs, caps, bars, msi, msix, pin, gate);
        if (length == PCI_CFG_SPACE_EXP_SIZE) {
            for (CapabilityEntry.Extended e : List.copyOf(caps.extended())) {
                for (int id : HIDDEN_EXTENDED) {
                    if (e.id() == id) {
                        caps.hideExtended(e);
                        vc.hidden.add(e.toString());
                    }
                }
            }
        }
        return vc;
    }

    /** The PM control/status register's offset, found by walking the physical capability list; -1 when none. */
    private static int pmControl(byte[] physical) {
        if ((physical[PCI_STATUS] & PCI_STATUS_CAP_LIST) == 0) {
            return -1;
        }
        int at = physical[PCI_CAPABILITY_LIST] & 0xFC;
        for (int hops = 0; at >= 0x40 && at < PCI_CFG_SPACE_SIZE && hops < 48; hops++) {
            if ((physical[at] & 0xFF) == PCI_CAP_ID_PM) {
                return at + PCI_PM_CTRL;
            }
            at = physical[at + 1] & 0xFC;
        }
        return -1;
    }

    static BarDefinition barDefinition(String name, int index, int register, long size) {
        if (Long.bitCount(size) != 1) {
            throw new VfioException(String.format("%s: BAR%d region size 0x%x is not a power of two", name, index,
                    size));
        }
        if ((register & PCI_BASE_ADDRESS_SPACE_IO) != 0) {
            return BarDefinition.io(index, Math.max(4, size));
        }
        boolean prefetch = (register & PCI_BASE_ADDRESS_MEM_PREFETCH) != 0;
        long memSize = Math.max(16, size);
        if ((register & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
            if (index == 5) {
                throw new VfioException(name + ": BAR5 claims to be 64-bit");
            }
            return BarDefinition.memory64(index, memSize, prefetch);
        }
        return new BarDefinition(index, BarType.MEMORY32, memSize, prefetch);
    }

    /** The device's config region, for writes the VMM makes itself (restoring state after reset). */
    VfioRegion region() {
        return region;
    }

    /**
     * Writes the guest-visible state that lives in the device back to it after a reset: the mirrored command bits
     * (BAR decode is re-enabled by the guest's own programming, which the VMM keeps in its image).
     */
    void restoreAfterReset() {
        cs.invalidateCache();
        int command = cs.getWord(PCI_COMMAND) & COMMAND_MIRRORED;
        gate.powerOn = true; // a reset leaves the function in D0
        try {
            long hw = region.read(PCI_COMMAND, 2);
            region.write(PCI_COMMAND, 2, (hw & ~COMMAND_MIRRORED) | command);
            gate.set((command & PCI_COMMAND_MEMORY) != 0, true);
        } catch (RuntimeException e) {
            gate.set(false, true);
            LOG.warn("{}: restoring the command register after reset failed", name, e);
        }
    }

    static final int PCI_PM_CTRL_STATE_MASK = 0x3;
    static final int PCI_D3HOT = 0x3;

    /**
     * Whether the device answers at its memory BARs: its command register's memory bit and its power state as the
     * VMM last wrote them. Off means the kernel zapped the BAR mmaps (an access through a memslot would fail KVM_RUN
     * with EFAULT), so {@link BarMapper} keeps the BARs trapped; trapped accesses then get what VFIO answers
     * (all-ones reads). The gate only records the state; the device asks it around each guest config write
     * ({@link #closedBy} before, {@link #isOpen} after) and tells the mapper.
     */
    static final class MemoryGate {
        /** The PM control/status register's offset, -1 when the function has no PM capability. */
        private final int pmcsr;
        volatile boolean commandMemory;
        volatile boolean powerOn;
        private volatile boolean open;

        MemoryGate(int pmcsr, boolean powerOn) {
            this.pmcsr = pmcsr;
            this.powerOn = powerOn;
        }

        boolean isOpen() {
            return open;
        }

        /** True when a guest write of {@code value} at {@code offset} turns the device's memory off (or keeps it). */
        boolean closedBy(int offset, int size, long value) {
            return !(memoryAfter(offset, size, value) && powerAfter(offset, size, value));
        }

        /** True when the write reaches the command register or the PM state: the registers the gate follows. */
        boolean watches(int offset, int size) {
            return covers(offset, size, PCI_COMMAND) || (pmcsr >= 0 && covers(offset, size, pmcsr));
        }

        boolean memoryAfter(int offset, int size, long value) {
            return covers(offset, size, PCI_COMMAND) ? (byteAt(value, offset, PCI_COMMAND) & PCI_COMMAND_MEMORY) != 0
                    : commandMemory;
        }

        boolean powerAfter(int offset, int size, long value) {
            return pmcsr >= 0 && covers(offset, size, pmcsr)
                    ? (byteAt(value, offset, pmcsr) & PCI_PM_CTRL_STATE_MASK) != PCI_D3HOT : powerOn;
        }

        synchronized void set(boolean memory, boolean power) {
            commandMemory = memory;
            powerOn = power;
            open = memory && power;
        }

        private static boolean covers(int offset, int size, int register) {
            return register >= offset && register < offset + size;
        }

        private static int byteAt(long value, int offset, int register) {
            return (int) (value >>> (8 * (register - offset))) & 0xFF;
        }
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    /**
     * Non-emulated bits go to the device through the config region. A write that mixes emulated and device bits in
     * one access sends the device its own current value for the emulated bits (read-modify-write), so the guest's
     * value for a BAR or an MSI field never reaches the hardware. RW1C status bits are never emulated, so writing
     * back the read value cannot clear them.
     */
    private static final class RegionBacking implements ConfigPassthrough {
        private final String name;
        private final VfioRegion region;
        private final MemoryGate gate;
        private final GuestLog guestLog;

        RegionBacking(String name, VfioRegion region, MemoryGate gate, GuestLog guestLog) {
            this.name = name;
            this.region = region;
            this.gate = gate;
            this.guestLog = guestLog;
        }

        /** A failed read answers all-ones, as a function that doesn't respond does; never throws. */
        @Override
        public long read(int offset, int size) {
            try {
                return region.read(offset, size);
            } catch (RuntimeException e) {
                guestLog.warn("config read", String.format("config read of %d bytes at 0x%x failed", size, offset),
                        e);
                return size >= 8 ? -1L : (1L << (size * 8)) - 1;
            }
        }

        /**
         * A write that changes whether the device answers at its memory BARs (the command register's memory bit, the
         * PM power state) records it in the gate: before the device write when it turns memory off (the device
         * removed the BAR memslots already, see {@link MemoryGate#closedBy}), after it when it turns memory on. A
         * failed write is dropped (and the gate stays off: the device's state is not known); never throws.
         */
        @Override
        public void write(int offset, int size, long value, long passMask) {
            long all = size >= 8 ? -1L : (1L << (size * 8)) - 1;
            try {
                long out = value & passMask;
                if ((passMask & all) != all) {
                    out |= region.read(offset, size) & ~passMask & all;
                }
                if (!gate.watches(offset, size)) {
                    region.write(offset, size, out);
                    return;
                }
                gatedWrite(offset, size, out);
            } catch (RuntimeException e) {
                guestLog.warn("config write", String.format("config write of %d bytes at 0x%x failed", size,
                        offset), e);
            }
        }

        private void gatedWrite(int offset, int size, long out) {
            boolean memory = gate.memoryAfter(offset, size, out);
            boolean powerOn = gate.powerAfter(offset, size, out);
            if (!(memory && powerOn)) {
                gate.set(memory, powerOn);
            }
            try {
                region.write(offset, size, out);
            } catch (RuntimeException e) {
                gate.set(false, powerOn); // did it reach the device? unknown: no direct mapping
                throw e;
            }
            gate.set(memory, powerOn);
        }

        @Override
        public String toString() {
            return name + " config region";
        }
    }
}
