package org.vfio4j.refvmm.flat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;
import com.google.inject.Guice;
import com.google.inject.Injector;
import org.vfio4j.core.SyscallsModule;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.kvm.VcpuStop;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.kvm.KvmModule;
import org.vfio4j.pci.PciEmulationModule;
import org.vfio4j.pci.bus.ConfigMechanism1;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciBus;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioContext;
import org.vfio4j.vfio.VfioModule;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciDeviceFactory;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * A small one-vCPU KVM machine for the guest programs of {@link GuestImage}, the VMM of the demo and of the
 * benchmark: RAM at guest address 0, the program image mapped read-only at the top of 4 GiB (no firmware: the
 * program is the firmware), a PCI host bridge from pci-emulation at 00:00.0 on CF8/CFC and ECAM
 * ({@link #ECAM_BASE}, q35's MMCONFIG address), an isa-debugcon-like port 0x402 ({@link GuestOutput}) and an
 * isa-debug-exit-like port 0x501 that ends the run with the program's exit code. The vCPU starts at the reset
 * vector in real mode.
 *
 * <p>{@link #create(long)} wires it from vfio4j's Guice modules ({@code SyscallsModule}, {@code KvmModule},
 * {@code PciEmulationModule}, {@code VfioModule.withPciDevices()}); {@link #GuestMachine(Syscalls, long)} builds
 * the same parts by hand. Passthrough functions go on the root bus with {@link #attach(VfioPciOptions)} (the machine
 * owns them) or, for a caller that manages a device itself, with {@link VfioPciDevice#attach} on {@link #pciBus()}
 * (the caller closes it, before this machine). Both happen before {@link #run}.
 *
 * <p>Closing releases everything: the vCPU thread, the devices attached through {@link #attach}, the VM with its
 * memslots and RAM, and the image mapping.
 */
public final class GuestMachine implements AutoCloseable {
    /**
     * Where a program asks the VMM to act (a byte: which request) and continues when the action is done; the
     * action runs on the vCPU thread, as a device's reaction to a guest write does. QEMU drops writes there.
     */
    public static final int REQUEST_PORT = 0x404;
    /** isa-debugcon's usual port. */
    public static final int DEBUGCON_PORT = 0x402;
    /** The isa-debug-exit port the programs use (QEMU: {@code -device isa-debug-exit,iobase=0x501,iosize=1}). */
    public static final int EXIT_PORT = 0x501;
    /** The legacy VGA window, left out of RAM. */
    static final long VGA_WINDOW = 0xA0000;
    static final long VGA_WINDOW_END = 0xC0000;
    /** Where the ECAM window starts (q35's MMCONFIG base); 256 buses, 256 MiB. */
    public static final long ECAM_BASE = 0xb000_0000L;

    private final Syscalls sys;
    private final KvmVmm vmm;
    private final PciHostBridge hostBridge;
    private final VfioPciDeviceFactory devices;
    private final List<VfioPciDevice> attached = new ArrayList<>();
    private final GuestOutput output;
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    private AutoCloseable coalescedConfigAddress;
    private MemoryMapping image;
    private DeviceMemorySlot imageSlot;
    private VcpuThread thread;

    /**
     * A machine with {@code ramBytes} of RAM from guest address 0 but for the VGA window 0xA0000-0xBFFFF (a multiple
     * of the page size), built by hand on
     * {@code sys}; {@link #attach} uses the host's VFIO.
     */
    public GuestMachine(Syscalls sys, long ramBytes) {
        this(sys, KvmVmm.create(sys, KvmVmm.Config.defaults()), new PciHostBridge(), null, ramBytes);
    }

    /**
     * A machine from vfio4j's Guice modules: {@code SyscallsModule} (the real kernel), {@code KvmModule},
     * {@code PciEmulationModule} (PC-like windows) and {@code VfioModule.withPciDevices()} on the host's sysfs.
     *
     * @param ramBytes RAM at guest address 0, a multiple of the page size
     */
    public static GuestMachine create(long ramBytes) {
        Injector injector = Guice.createInjector(new SyscallsModule(), new KvmModule(),
                new PciEmulationModule(PciEmulationModule.Settings.defaults()),
                VfioModule.usingBoundSyscalls(Sysfs.host()).withPciDevices());
        KvmVmm vmm = injector.getInstance(KvmVmm.class);
        try {
            return new GuestMachine(injector.getInstance(Syscalls.class), vmm,
                    injector.getInstance(PciHostBridge.class), injector.getInstance(VfioPciDeviceFactory.class),
                    ramBytes);
        } catch (RuntimeException | Error e) {
            vmm.close();
            throw e;
        }
    }

    /**
     * The parts given (the machine owns {@code vmm} from here on, and closes it also when this constructor fails).
     *
     * @param devices builds passthrough devices for {@code vmm} and {@code hostBridge}; null for the host's VFIO
     */
    private GuestMachine(Syscalls sys, KvmVmm vmm, PciHostBridge hostBridge, VfioPciDeviceFactory devices,
            long ramBytes) {
        this.sys = sys;
        this.vmm = vmm;
        this.hostBridge = hostBridge;
        this.devices = devices != null ? devices
                : new VfioPciDeviceFactory(VfioContext.create(Vfio.host(), vmm), hostBridge);
        this.output = new GuestOutput(vmm::exitCounts);
        try {
            // RAM with a PC's hole for the legacy VGA window (0xA0000-0xBFFFF), so a passed-through VGA function's
            // legacy ranges can trap there; the programs use RAM below 0x80000 and from 0x100000.
            vmm.guestMemory().addRam(0, VGA_WINDOW, "ram below the VGA window");
            vmm.guestMemory().addRam(VGA_WINDOW_END, ramBytes - VGA_WINDOW_END, "ram");
            owned.add(vmm.pioBus().register(ConfigMechanism1.PORT, ConfigMechanism1.LENGTH,
                    new ConfigMechanism1(hostBridge), "pci config mechanism 1"));
            if (vmm.vm().coalescedIo().pioSupported()) {
                // The address port's writes wait in KVM's ring until the data port's access exits (as QEMU's q35
                // registers them): a config access costs one exit instead of two.
                coalescedConfigAddress = vmm.vm().coalescedIo().registerPio(ConfigMechanism1.PORT, 4);
            }
            EcamHandler ecam = new EcamHandler(hostBridge, 256);
            owned.add(vmm.mmioBus().register(ECAM_BASE, ecam.length(), ecam, "pci ecam"));
            owned.add(vmm.pioBus().register(DEBUGCON_PORT, 1, output, "debugcon"));
            owned.add(vmm.pioBus().register(EXIT_PORT, 1, new TrapHandler() {
                @Override
                public long read(long offset, int size) {
                    return TrapHandler.allOnes(size);
                }

                @Override
                public void write(long offset, int size, long value) {
                    exitCode.complete((int) (value & 0xff));
                }
            }, "debug exit"));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * True when writes to the configuration address port 0xcf8 are coalesced by KVM (the default where the kernel
     * can, {@code KVM_CAP_COALESCED_PIO}): each CF8/CFC access then exits once, at the data port.
     */
    public boolean configAddressCoalesced() {
        return coalescedConfigAddress != null;
    }

    /**
     * Makes 0xcf8 writes exit again (two exits per CF8/CFC access, as a VMM without coalescing takes); before
     * {@link #run}. For comparing like with like.
     */
    public GuestMachine withoutCoalescedConfigAddress() {
        if (coalescedConfigAddress != null) {
            try {
                coalescedConfigAddress.close();
            } catch (Exception e) {
                throw new IllegalStateException("unregistering the coalesced 0xcf8 range", e);
            }
            coalescedConfigAddress = null;
        }
        return this;
    }

    /** The VMM, for attaching devices ({@link org.vfio4j.core.Vmm} SPI) and for its counters. */
    public KvmVmm vmm() {
        return vmm;
    }

    /** The guest RAM in bytes: what was asked for less the VGA window, which is not RAM. */
    public long ramBytes() {
        return vmm.guestMemory().regions().stream().mapToLong(r -> r.size()).sum();
    }

    /** The PCI host bridge at 00:00.0. */
    public PciHostBridge hostBridge() {
        return hostBridge;
    }

    /** Bus 0, where devices go. */
    public PciBus pciBus() {
        return hostBridge.rootBus();
    }

    /**
     * Attaches a host function through VFIO on the root bus ({@code options} say which and at which slot); the
     * machine closes it before the VM. Call before {@link #run}.
     *
     * @return the attached device, with the time {@link VfioPciDevice#attach} took
     * @throws RuntimeException what {@link VfioPciDevice#attach} throws (naming the device, ioctl and errno)
     */
    public Attached attach(VfioPciOptions options) {
        long start = System.nanoTime();
        VfioPciDevice device = devices.create(options);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        synchronized (attached) {
            attached.add(device);
        }
        return new Attached(device, took);
    }

    /**
     * A device attached by {@link #attach}.
     *
     * @param device the passthrough device (owned by the machine)
     * @param attachTime how long {@link VfioPciDevice#attach} took: opening the group and container, mapping guest RAM
     *     for DMA, reading the regions, building the guest config view, mapping the BARs' mappable parts
     */
    public record Attached(VfioPciDevice device, Duration attachTime) {
    }

    /** What the guest printed. */
    public GuestOutput output() {
        return output;
    }

    /**
     * Runs {@code action} with the request byte whenever the program writes {@link #REQUEST_PORT}. A throwing action
     * is reported in the output as {@code request.failed} (the guest itself sees nothing).
     */
    public GuestMachine onRequest(IntConsumer action) {
        owned.add(vmm.pioBus().register(REQUEST_PORT, 1, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return TrapHandler.allOnes(size);
            }

            @Override
            public void write(long offset, int size, long value) {
                try {
                    action.accept((int) (value & 0xff));
                } catch (RuntimeException e) {
                    output.note("request.failed", value, e.toString());
                }
            }
        }, "vmm requests"));
        return this;
    }

    /** Maps {@code bytes} (a {@link GuestImage}) read-only so that it ends at 4 GiB. Once per machine. */
    public GuestMachine load(byte[] bytes) {
        if (image != null) {
            throw new IllegalStateException("an image is already loaded");
        }
        image = MemoryMapping.anonymous(sys, bytes.length, "guest image");
        image.write(0, bytes, 0, bytes.length);
        imageSlot = vmm.deviceMemory().map(0x1_0000_0000L - bytes.length, bytes.length, image.address(), true,
                "guest image");
        return this;
    }

    /**
     * Starts the vCPU at the reset vector and waits until the program writes the exit port, the vCPU stops, or
     * {@code limit} passes (a guard against a hung guest, not a timing check).
     *
     * @return how the run ended, with the output so far
     */
    public GuestRun run(Duration limit) throws InterruptedException {
        if (imageSlot == null) {
            throw new IllegalStateException("no image loaded");
        }
        if (thread != null) {
            throw new IllegalStateException("already ran");
        }
        KvmVcpu vcpu = vmm.createVcpu(0);
        GuestStart.resetVector(vcpu);
        thread = vmm.start(vcpu);
        CompletableFuture<Object> end = CompletableFuture.anyOf(exitCode, thread.stopped());
        Integer code = null;
        String why;
        try {
            end.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            if (exitCode.isDone()) {
                code = exitCode.getNow(null);
                why = "exit port";
            } else {
                VcpuStop stop = thread.stopped().getNow(null);
                why = "vcpu stopped: " + stop;
            }
        } catch (TimeoutException e) {
            why = "no exit within " + limit;
        } catch (ExecutionException e) {
            why = "failed: " + e.getCause();
        }
        return new GuestRun(code, why, output.text(), output.results(), vmm.exitCounts());
    }

    /**
     * Stops the vCPU (idempotent), so devices can be detached while the VM still exists. {@link #close()} does it
     * too.
     */
    public void stop() {
        if (thread != null) {
            thread.stop();
        }
    }

    /** Exits of {@code reason} ({@link KvmAbi.Exit}) so far. */
    public long exits(int reason) {
        return vmm.exitCounts().getOrDefault(KvmAbi.Exit.name(reason), 0L);
    }

    /** The bus of trapped port I/O. */
    public TrapBus pioBus() {
        return vmm.pioBus();
    }

    /**
     * Stops the vCPU, closes the devices attached through {@link #attach} (newest first) and releases the VM, the
     * port registrations and the image. Idempotent. Devices the caller attached itself should be closed first.
     */
    @Override
    public void close() {
        try {
            stop();
            synchronized (attached) {
                for (int i = attached.size() - 1; i >= 0; i--) {
                    try {
                        attached.get(i).close();
                    } catch (RuntimeException e) {
                        output.note("detach.failed", i, e.toString());
                    }
                }
                attached.clear();
            }
            try {
                devices.context().close(); // the VM's VFIO context, after its devices
            } catch (RuntimeException e) {
                output.note("vfio-context.close.failed", 0, e.toString());
            }
            if (imageSlot != null) {
                imageSlot.close();
            }
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // port registrations close without throwing
                }
            }
            owned.clear();
        } finally {
            vmm.close();
            if (image != null) {
                image.close();
            }
        }
    }

    /**
     * How a run ended.
     *
     * @param exitCode the program's exit code, or null when it didn't reach the exit port
     * @param ending why the run ended
     * @param text everything printed
     * @param results the result lines
     * @param exits the VMM's exit counts at the end
     */
    public record GuestRun(Integer exitCode, String ending, String text, List<GuestOutput.Result> results,
            Map<String, Long> exits) {
        /** Copies the collections. */
        public GuestRun {
            results = List.copyOf(results);
            exits = Map.copyOf(exits);
        }

        /** True when the program reached the exit port with code 0. */
        public boolean succeeded() {
            return exitCode != null && exitCode == 0;
        }

        /** The last result with {@code key}; fails with the whole output when absent. */
        public GuestOutput.Result result(String key) {
            for (int i = results.size() - 1; i >= 0; i--) {
                if (results.get(i).key().equals(key)) {
                    return results.get(i);
                }
            }
            throw new AssertionError("the guest reported no " + key + "; " + this);
        }

        /** The value of the last result with {@code key}. */
        public long value(String key) {
            return result(key).value();
        }

        /** Exits of {@code reason} between the result lines {@code from} and {@code to}. */
        public long exitsBetween(String from, String to, int reason) {
            String name = KvmAbi.Exit.name(reason);
            return result(to).exits(name) - result(from).exits(name);
        }

        @Override
        public String toString() {
            return "guest run ended (" + ending + ", exit code " + exitCode + ", exits " + exits + "); output:\n"
                    + text;
        }
    }
}
