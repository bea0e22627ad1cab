package org.vfio4j.vfio.pci;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.vfio4j.core.bus.AccessGate;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.msix.MsixCapability;

/**
 * A passthrough function as the guest reaches it through config space and the MSI-X table: where a vCPU's trapped
 * access lands after the bus, and where its effects are applied.
 *
 * <p>A guest config write reads in one straight line ({@link #write}): the virtual config space takes it (image,
 * device, capabilities) and returns what changed; then, with no emulation lock held, the changes are applied in
 * order: BARs placed and memslots changed ({@link BarMapper}), interrupts set up in VFIO and KVM
 * ({@link Interrupts}), a guest-requested reset run. An MSI-X table write does the same through
 * {@link MsixCapability#writeTable}.
 *
 * <p>Config writes, the effects of table writes and host resets are applied one at a time under this object's
 * monitor, the device lock. It comes first: under it the mapper's and the interrupt router's monitors, then, for
 * moments, the config space's and the MSI-X table's. No lock of the emulation is held while the device waits for
 * anything (a syscall, the event loop), so the event loop, which takes the emulation's locks to set a pending bit,
 * never waits for a vCPU.
 */
final class GuestConfig implements ConfigAccess {
    private final VirtualConfig config;
    private final BarMapper bars;
    private final Interrupts interrupts;
    private final Runnable functionLevelReset;
    private final GuestLog guestLog;
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    /** Guest config accesses inside; closed when the function leaves the bus. */
    private final AccessGate gate = new AccessGate();

    /**
     * @param functionLevelReset what the guest's FLR runs (on the vCPU thread, with the device lock held); it may
     *     write config space through {@link #writeAndApply}
     */
    GuestConfig(VirtualConfig config, BarMapper bars, Interrupts interrupts, Runnable functionLevelReset,
            GuestLog guestLog) {
        this.config = config;
        this.bars = bars;
        this.interrupts = interrupts;
        this.functionLevelReset = functionLevelReset;
        this.guestLog = guestLog;
    }

    @Override
    public long read(int offset, int size) {
        if (!gate.enter()) {
            return ConfigAccess.allOnes(size);
        }
        try {
            reads.increment();
            return config.cs.read(offset, size);
        } finally {
            gate.exit();
        }
    }

    /** A guest config write (vCPU exit, bus, here) and its effects. */
    @Override
    public void write(int offset, int size, long value) {
        if (!gate.enter()) {
            return;
        }
        try {
            writes.increment();
            writeAndApply(offset, size, value);
        } finally {
            gate.exit();
        }
    }

    /**
     * After the function left the guest bus: turns away config accesses that had already found it and waits,
     * bounded, for those inside, so the release can close what they use (the device fd) right after.
     */
    void retire() {
        gate.close();
    }

    @Override
    public int length() {
        return config.cs.length();
    }

    /** A config write and its effects, not counted as the guest's: for the VMM's own writes (the FLR's). */
    synchronized void writeAndApply(int offset, int size, long value) {
        if (config.gate.closedBy(offset, size, value)) {
            bars.deviceMemory(false); // the memslots go before the device stops answering at its BARs
        }
        List<ConfigChange> changes = config.cs.guestWrite(offset, size, value);
        bars.deviceMemory(config.gate.isOpen());
        for (ConfigChange change : changes) {
            apply(change);
        }
    }

    /**
     * The MSI-X table as the guest reaches it: reads and writes go to the emulated table, and a write that changed a
     * vector while MSI-X is enabled has its route updated before the vCPU returns to the guest.
     */
    TrapHandler msixTable(MsixCapability msix) {
        return new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return msix.readTable(offset, size);
            }

            @Override
            public void write(long offset, int size, long value) {
                ConfigChange change = msix.writeTable(offset, size, value);
                if (change != null) {
                    synchronized (GuestConfig.this) {
                        apply(change);
                    }
                }
            }

            @Override
            public String toString() {
                return config.cs.name() + " MSI-X table";
            }
        };
    }

    /**
     * After a host reset: writes the guest-visible state that lives in the device back to it and lets the BAR
     * memslots follow whether the device answers at its memory BARs again. With the device lock held.
     */
    synchronized void restoreAfterReset() {
        config.restoreAfterReset();
        bars.deviceMemory(config.gate.isOpen());
    }

    /** Guest config reads so far. */
    long reads() {
        return reads.sum();
    }

    /** Guest config writes so far. */
    long writes() {
        return writes.sum();
    }

    /** Applies one change; a failure is the guest's problem (logged, rate limited), never the vCPU's. */
    private void apply(ConfigChange change) {
        try {
            if (change instanceof ConfigChange.BarMoved moved) {
                bars.barChanged(moved.index());
            } else if (change instanceof ConfigChange.DecodeChanged decode) {
                bars.decodeChanged(decode.memory());
            } else if (change instanceof ConfigChange.RomEnableChanged) {
                bars.barChanged(PciBars.ROM);
            } else if (change instanceof ConfigChange.MsiChanged msi) {
                interrupts.msiChanged(msi.state());
            } else if (change instanceof ConfigChange.MsiVectorMaskChanged mask) {
                interrupts.msiVectorMasked(mask.vector());
            } else if (change instanceof ConfigChange.MsixControlChanged) {
                interrupts.msixControlChanged();
            } else if (change instanceof ConfigChange.MsixVectorChanged vector) {
                interrupts.msixVectorChanged(vector.vector());
            } else if (change instanceof ConfigChange.FunctionResetRequested) {
                functionLevelReset.run();
            }
            // PowerStateChanged: the PM capability is the device's own; the memory gate follows its power state.
        } catch (RuntimeException e) {
            guestLog.warn("config effect", "applying " + change + " failed", e);
        }
    }
}
