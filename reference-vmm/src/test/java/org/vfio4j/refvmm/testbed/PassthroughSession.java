package org.vfio4j.refvmm.testbed;

import java.time.Duration;
import java.util.Map;
import java.util.function.BiConsumer;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.pci.InterruptMode;
import org.vfio4j.vfio.pci.VfioPciCounters;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciOptions;

/**
 * One guest program run against one passed-through host function: a {@link GuestMachine}, the function attached
 * with {@link VfioPciDevice} at guest slot {@link #SLOT}, the program built and run to its exit port. What the
 * device reported is snapshotted while it is still attached (counters, interrupt mode), then {@link #close()}
 * stops the vCPU, detaches the device and releases the machine, in that order.
 */
public final class PassthroughSession implements AutoCloseable {
    /** The guest slot the function goes to (00:04.0). */
    public static final int SLOT = 4;

    private final GuestMachine machine;
    private final VfioPciDevice device;
    private final GuestMachine.GuestRun run;
    private final VfioPciCounters counters;
    private final InterruptMode mode;

    private PassthroughSession(GuestMachine machine, VfioPciDevice device, GuestMachine.GuestRun run) {
        this.machine = machine;
        this.device = device;
        this.run = run;
        this.counters = device.counters();
        this.mode = device.interruptMode();
    }

    /**
     * Attaches host function {@code bdf} to a new machine with {@code ramBytes} of RAM, runs guest program
     * {@code program} (with {@code symbols}) until it exits or {@code limit} passes.
     */
    public static PassthroughSession run(String bdf, String program, Map<String, Long> symbols, long ramBytes,
            Duration limit) throws InterruptedException {
        return run(VfioPciOptions.builder(bdf).slot(SLOT).build(), program, symbols, ramBytes, limit);
    }

    /** As {@link #run(String, String, Map, long, Duration)}, attaching with {@code options}. */
    public static PassthroughSession run(VfioPciOptions options, String program, Map<String, Long> symbols,
            long ramBytes, Duration limit) throws InterruptedException {
        return run(options, program, symbols, ramBytes, limit, (machine, device) -> { });
    }

    /**
     * As {@link #run(VfioPciOptions, String, Map, long, Duration)}; {@code beforeRun} gets the machine and the
     * attached device before the vCPU starts (e.g. to install {@link GuestMachine#onRequest} actions).
     */
    public static PassthroughSession run(VfioPciOptions options, String program, Map<String, Long> symbols,
            long ramBytes, Duration limit, BiConsumer<GuestMachine, VfioPciDevice> beforeRun)
            throws InterruptedException {
        byte[] image = GuestImage.build(program, symbols);
        Syscalls sys = Syscalls.linux();
        GuestMachine machine = new GuestMachine(sys, ramBytes);
        VfioPciDevice device = null;
        try {
            device = VfioPciDevice.attach(Vfio.host(), machine.vmm(), machine.pciBus(), options);
            machine.load(image);
            beforeRun.accept(machine, device);
            GuestMachine.GuestRun run = machine.run(limit);
            return new PassthroughSession(machine, device, run);
        } catch (RuntimeException | InterruptedException | Error e) {
            machine.stop();
            if (device != null) {
                device.close();
            }
            machine.close();
            throw e;
        }
    }

    /** The machine (its VMM, bus and output). */
    public GuestMachine machine() {
        return machine;
    }

    /** The attached function. */
    public VfioPciDevice device() {
        return device;
    }

    /** How the program ended, with its results. */
    public GuestMachine.GuestRun guest() {
        return run;
    }

    /** The device's counters right after the run. */
    public VfioPciCounters counters() {
        return counters;
    }

    /** The interrupt mode the guest left the device in. */
    public InterruptMode interruptMode() {
        return mode;
    }

    /** Stops the vCPU, detaches the device, releases the machine. */
    @Override
    public void close() {
        machine.stop();
        try {
            device.close();
        } finally {
            machine.close();
        }
    }
}
