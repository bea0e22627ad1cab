package org.vfio4j.refvmm.linux;

import com.google.inject.Guice;
import com.google.inject.Injector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.vfio4j.core.SyscallsModule;
import org.vfio4j.core.kvm.CpuidEntry;
import org.vfio4j.core.kvm.KvmModule;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.kvm.VcpuStop;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.pci.PciEmulationModule;
import org.vfio4j.pci.bus.ConfigMechanism1;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.refvmm.linux.cpu.CpuidPolicy;
import org.vfio4j.refvmm.linux.devices.PowerPorts;
import org.vfio4j.refvmm.linux.devices.Uart16550;
import org.vfio4j.vfio.VfioContext;
import org.vfio4j.vfio.VfioModule;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciDeviceFactory;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * The Linux reference VMM: a KVM VM that boots an x86-64 Linux kernel through the 64-bit boot protocol, with host
 * PCI functions passed through by {@link VfioPciDevice}. Built only from vfio4j's public API and Guice modules
 * ({@code SyscallsModule}, {@code KvmModule}, {@code PciEmulationModule}, {@code VfioModule.withPciDevices()}).
 *
 * <p>The machine (layout in {@link LinuxLayout}): RAM from 0 (split around the PCI hole above 2.75 GiB), the
 * in-kernel irqchip and PIT, a 16550A UART on COM1 (IRQ 4), a PCI host bridge on CF8/CFC and ECAM, ACPI tables
 * (RSDP, XSDT, FADT hardware-reduced, MADT, MCFG, DSDT with the host bridge and its _PRT), and the power-off, reset
 * and exit ports of {@link PowerPorts}. Before the kernel starts, the VMM assigns PCI resources as firmware does
 * (BARs placed, decoding and bus mastering on, interrupt lines set).
 *
 * <p>Life cycle: {@link #create(LinuxVmConfig)} checks everything that can be checked before a VM exists (kernel
 * format, initrd, RAM size, devices bound to vfio-pci), builds the VM, attaches the devices and loads the kernel;
 * {@link #run(Duration)} starts the vCPUs and waits until the guest ends the VM; {@link #close()} releases
 * everything (devices first, then the VM). One run per machine.
 */
public final class LinuxMachine implements AutoCloseable {
    private final LinuxVmConfig config;
    private final KvmVmm vmm;
    private final PciHostBridge hostBridge;
    private final SerialConsole console;
    private final PowerPorts power = new PowerPorts();
    private final List<VfioPciDevice> devices = new ArrayList<>();
    private final VfioContext vfio;
    private final List<AutoCloseable> registrations = new ArrayList<>();
    private final List<VcpuThread> threads = new ArrayList<>();
    private final BootReport boot;
    private long startNanos;

    private LinuxMachine(LinuxVmConfig config, Syscalls sys, KvmVmm vmm, PciHostBridge hostBridge,
            VfioPciDeviceFactory factory) {
        this.config = config;
        this.vmm = vmm;
        this.hostBridge = hostBridge;
        this.vfio = factory.context();
        this.console = new SerialConsole(config.consoleLog(), config.echoConsole());
        try {
            LinuxLayout.addRam(vmm.guestMemory(), config.ramBytes());
            vmm.vm().createPit();
            wirePlatformDevices();
            // snippet:attach
            for (int i = 0; i < config.devices().size(); i++) {
                // Reset at attach, as QEMU resets every device at machine start: the guest's driver then finds the
                // function as firmware leaves it, not as the last VM left it.
                devices.add(factory.create(VfioPciOptions.builder(config.devices().get(i))
                        .slot(LinuxLayout.FIRST_DEVICE_SLOT + i).resetOnAttach(true).build()));
            }
            // end-snippet
            this.boot = LinuxLayout.load(config, vmm, hostBridge);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Checks the configuration, builds the VM from vfio4j's Guice modules, attaches the devices and loads the
     * kernel. Nothing runs yet.
     *
     * @throws IllegalArgumentException for bad input (not a bzImage, protocol too old, missing initrd, RAM too small,
     *     a device not bound to vfio-pci), before any VM exists
     * @throws RuntimeException what attaching a device throws (naming device, ioctl and errno); nothing is left
     */
    public static LinuxMachine create(LinuxVmConfig config) {
        config.checkFiles();
        LinuxLayout.checkKernel(config);
        Sysfs sysfs = Sysfs.host();
        for (String d : config.devices()) {
            String driver = sysfs.driverOf(d).orElse("no driver");
            if (!driver.equals("vfio-pci")) {
                throw new IllegalArgumentException("device " + d + " is bound to " + driver
                        + ", not vfio-pci: bind it to vfio-pci first (driver_override + drivers_probe)");
            }
        }
        // snippet:wiring
        Injector injector = Guice.createInjector(new SyscallsModule(), new KvmModule(),
                new PciEmulationModule(LinuxLayout.pciSettings()),
                VfioModule.usingBoundSyscalls(sysfs).withPciDevices());
        KvmVmm vmm = injector.getInstance(KvmVmm.class);
        // end-snippet
        try {
            return new LinuxMachine(config, injector.getInstance(Syscalls.class), vmm,
                    injector.getInstance(PciHostBridge.class), injector.getInstance(VfioPciDeviceFactory.class));
        } catch (RuntimeException | Error e) {
            vmm.close();
            throw e;
        }
    }

    private void wirePlatformDevices() {
        // snippet:config-access
        registrations.add(vmm.pioBus().register(ConfigMechanism1.PORT, ConfigMechanism1.LENGTH,
                new ConfigMechanism1(hostBridge), "pci config mechanism 1"));
        EcamHandler ecam = new EcamHandler(hostBridge, LinuxLayout.ECAM_BUSES);
        registrations.add(vmm.mmioBus().register(LinuxLayout.ECAM_BASE, ecam.length(), ecam, "pci ecam"));
        // end-snippet
        Uart16550 uart = new Uart16550(console::put,
                level -> vmm.interrupts().setIrqLine(LinuxLayout.COM1_IRQ, level));
        registrations.add(vmm.pioBus().register(LinuxLayout.COM1_PORT, 8, uart, "com1"));
        registrations.add(vmm.pioBus().register(PowerPorts.SLEEP_CONTROL_PORT, 3, power.acpiRegisters(),
                "acpi sleep/reset"));
        registrations.add(vmm.pioBus().register(PowerPorts.EXIT_PORT, 1, power.exitPort(), "exit port"));
    }

    /** The passed-through devices, in guest slot order. */
    public List<VfioPciDevice> devices() {
        return List.copyOf(devices);
    }

    /** The VMM (its counters, buses and interrupts). */
    public KvmVmm vmm() {
        return vmm;
    }

    /** What was placed where before the kernel started: kernel, initrd, tables, e820, PCI resources. */
    public BootReport bootReport() {
        return boot;
    }

    /**
     * Starts the vCPUs (vCPU 0 at the kernel's 64-bit entry, the others waiting for the guest's INIT/SIPI) and waits
     * until the guest powers off, resets or writes the exit port, vCPU 0 stops on its own, or {@code limit} passes
     * (a guard against a hung guest). The vCPUs are stopped before this returns.
     */
    public Run run(Duration limit) throws InterruptedException {
        if (startNanos != 0) {
            throw new IllegalStateException("a LinuxMachine runs once");
        }
        List<CpuidEntry> supported = vmm.kvm().supportedCpuid();
        List<KvmVcpu> vcpus = new ArrayList<>();
        for (int id = 0; id < config.vcpus(); id++) {
            KvmVcpu vcpu = vmm.createVcpu(id);
            vcpu.setCpuid(CpuidPolicy.forVcpu(supported, id, config.vcpus()));
            LinuxLayout.setLocalInterruptPins(vcpu);
            vcpus.add(vcpu);
        }
        boot.enter(vcpus.get(0));
        startNanos = System.nanoTime();
        for (KvmVcpu vcpu : vcpus) {
            threads.add(vmm.start(vcpu));
        }
        CompletableFuture<Object> end = CompletableFuture.anyOf(power.ended(), threads.get(0).stopped());
        String why;
        PowerPorts.Ending ending = null;
        VcpuStop stop = null;
        try {
            end.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            if (power.ended().isDone()) {
                ending = power.ended().getNow(null);
                why = ending.cause().name().toLowerCase().replace('_', ' ');
            } else {
                stop = threads.get(0).stopped().getNow(null);
                why = "vcpu 0 stopped: " + stop;
            }
        } catch (TimeoutException e) {
            why = "no power-off within " + limit;
        } catch (ExecutionException e) {
            why = "failed: " + e.getCause();
        }
        Duration ran = Duration.ofNanos(System.nanoTime() - startNanos);
        stopVcpus();
        return new Run(ending, why, ran, console.text(), console.lines(), vmm.exitCounts());
    }

    private void stopVcpus() {
        for (VcpuThread t : threads) {
            t.stop();
        }
    }

    /**
     * How a run ended.
     *
     * @param ending the guest's own ending (power-off, reset, exit port with status), or null when it did not end
     *     the VM itself
     * @param why a sentence
     * @param ran from the first KVM_RUN to the end
     * @param console the guest's serial output
     * @param lines the same as complete lines
     * @param exits the VMM's exit counts by reason
     */
    public record Run(PowerPorts.Ending ending, String why, Duration ran, String console, List<String> lines,
            Map<String, Long> exits) {
        /** True when the guest wrote status 0 to the exit port or powered off. */
        public boolean succeeded() {
            return ending != null && ending.cause() != PowerPorts.Cause.RESET && ending.status() == 0;
        }

        /** The {@code key=value} lines the guest printed ({@link KeyValues#parse}). */
        public Map<String, String> values() {
            return KeyValues.parse(lines);
        }

        @Override
        public String toString() {
            return "linux guest run ended (" + why + ", after " + ran.toMillis() + " ms, exits " + exits
                    + "); console:\n" + console;
        }
    }

    /**
     * Stops the vCPUs, closes the devices (newest first), the platform devices' registrations and the VM. Idempotent.
     */
    @Override
    public void close() {
        stopVcpus();
        // snippet:detach
        Closer closer = new Closer();
        for (int i = devices.size() - 1; i >= 0; i--) {
            closer.close(devices.get(i)); // each one, even after a failure: the first is thrown at the end
        }
        devices.clear();
        closer.close(vfio); // the VM's VFIO context: its container or iommufd, after its last device
        // end-snippet
        registrations.forEach(closer::close);
        registrations.clear();
        closer.close(vmm);
        closer.close(console);
        closer.rethrow();
    }
}
