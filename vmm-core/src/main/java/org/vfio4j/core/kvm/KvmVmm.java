package org.vfio4j.core.kvm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.VfioGroupRegistrar;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.memory.MemoryReservations;
import org.vfio4j.core.memory.RamReservations;
import org.vfio4j.core.sys.Syscalls;

/**
 * The {@link Vmm} SPI over KVM: one VM with guest RAM in memslots, device memory in memslots, MMIO and port-I/O trap
 * buses fed by the vCPU run loops, and interrupts through the in-kernel irqchip. It owns every native resource it
 * makes; {@link #close()} stops the vCPU threads, then releases vCPUs, memslots, irqfds, RAM, the VM and /dev/kvm.
 */
public final class KvmVmm implements Vmm, AutoCloseable {

    /**
     * How to build the VM.
     *
     * @param irqchip create the in-kernel PIC/IOAPIC/LAPIC (needed for interrupts; without it HLT exits to the
     *     run loop, which ends)
     */
    public record Config(boolean irqchip) {
        /** The usual setup: in-kernel irqchip. */
        public static Config defaults() {
            return new Config(true);
        }
    }

    private final Kvm kvm;
    private final KvmVm vm;
    private final KvmGuestMemory guestMemory;
    private final KvmDeviceMemoryMapper deviceMemory;
    private final TrapBus mmio = new TrapBus("mmio");
    private final TrapBus pio = new TrapBus("pio");
    private final KvmInterruptController interrupts;
    private final RamReservations reservations;
    private final List<VcpuThread> threads = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private static final Logger LOG = LoggerFactory.getLogger(KvmVmm.class);
    private KvmVfioDevice vfioDevice;
    /** Groups registered with the KVM-VFIO device and not yet removed, by fd. */
    private final Map<Integer, String> vfioGroups = new TreeMap<>();
    private volatile DeviceEvents deviceEvents = DeviceEvents.stopOnError(this::stopGuest);
    private volatile String stopReason;

    private KvmVmm(Kvm kvm, KvmVm vm, boolean irqchip) {
        this.kvm = kvm;
        this.vm = vm;
        this.guestMemory = new KvmGuestMemory(vm);
        this.deviceMemory = new KvmDeviceMemoryMapper(vm);
        this.reservations = new RamReservations(guestMemory);
        this.interrupts = irqchip ? new KvmInterruptController(vm) : null;
    }

    /** Opens /dev/kvm and creates the VM: irqchip (if asked), TSS and identity-map pages for real-mode code. */
    public static KvmVmm create(Syscalls sys, Config config) {
        Kvm kvm = Kvm.open(sys);
        KvmVm vm = null;
        try {
            vm = kvm.createVm();
            if (config.irqchip()) {
                vm.createIrqchip();
            }
            if (vm.checkExtension(KvmAbi.Cap.SET_TSS_ADDR) > 0) {
                vm.setTssAddress(KvmVm.DEFAULT_TSS_ADDRESS);
            }
            if (vm.checkExtension(KvmAbi.Cap.SET_IDENTITY_MAP_ADDR) > 0) {
                vm.setIdentityMapAddress(KvmVm.DEFAULT_IDENTITY_MAP_ADDRESS);
            }
            return new KvmVmm(kvm, vm, config.irqchip());
        } catch (RuntimeException e) {
            if (vm != null) {
                vm.close();
            }
            kvm.close();
            throw e;
        }
    }

    /** The KVM VM, for what the SPI does not cover (ioeventfds, register access). */
    public KvmVm vm() {
        return vm;
    }

    /** /dev/kvm. */
    public Kvm kvm() {
        return kvm;
    }

    @Override
    public KvmGuestMemory guestMemory() {
        return guestMemory;
    }

    @Override
    public KvmDeviceMemoryMapper deviceMemory() {
        return deviceMemory;
    }

    @Override
    public TrapBus mmioBus() {
        return mmio;
    }

    @Override
    public TrapBus pioBus() {
        return pio;
    }

    /**
     * The in-kernel irqchip's controller.
     *
     * @throws IllegalStateException when the VM was made without irqchip
     */
    @Override
    public InterruptController interrupts() {
        if (interrupts == null) {
            throw new IllegalStateException(vm + " was created without an in-kernel irqchip");
        }
        return interrupts;
    }

    /** Creates vCPU {@code id}. Set its registers (see {@link GuestStart}) before {@link #start}. */
    public KvmVcpu createVcpu(int id) {
        return vm.createVcpu(id);
    }

    /** Starts the run loop of {@code vcpu} on its own thread, dispatching exits to this VMM's trap buses. */
    public VcpuThread start(KvmVcpu vcpu) {
        VcpuThread t = new VcpuThread(vcpu, pio, mmio);
        threads.add(t);
        return t.start();
    }

    /** The run loops started so far. */
    public List<VcpuThread> vcpuThreads() {
        return new ArrayList<>(threads);
    }

    /** Exit counts by reason name summed over every vCPU started, for reports and benchmarks. */
    public Map<String, Long> exitCounts() {
        Map<String, Long> total = new TreeMap<>();
        for (VcpuThread t : threads) {
            t.exitCounts().forEach((reason, n) -> total.merge(reason, n, Long::sum));
        }
        return total;
    }

    /** Creates the KVM-VFIO device of this VM. The caller owns (closes) it. */
    public KvmVfioDevice createVfioDevice() {
        return KvmVfioDevice.create(vm);
    }

    /**
     * Registers VFIO groups with this VM's KVM-VFIO device, created on first use and closed with the VMM. KVM uses
     * the registration for non-coherent DMA (WBINVD emulation) and, on some architectures, to attach the group to
     * the VM.
     */
    @Override
    public Optional<VfioGroupRegistrar> vfioGroupRegistrar() {
        return Optional.of(this::addVfioGroup);
    }

    private VfioGroupRegistrar.Registration addVfioGroup(int groupFd, String name) {
        KvmVfioDevice dev;
        synchronized (this) {
            if (closed.get()) {
                throw new IllegalStateException("KvmVmm is closed; cannot register " + name);
            }
            if (vfioDevice == null) {
                vfioDevice = createVfioDevice();
            }
            dev = vfioDevice;
            dev.addGroup(groupFd);
            vfioGroups.put(groupFd, name);
        }
        AtomicBoolean removed = new AtomicBoolean();
        return () -> {
            if (removed.compareAndSet(false, true)) {
                synchronized (this) {
                    if (vfioGroups.remove(groupFd) != null) {
                        removeVfioGroup(dev, groupFd, name);
                    }
                }
            }
        };
    }

    /** Reservations in this VM's RAM; {@link RamReservations#e820()} is the memory map to give the guest. */
    @Override
    public Optional<MemoryReservations> memoryReservations() {
        return Optional.of(reservations);
    }

    /**
     * The same reservations with the VMM-side controls: {@link RamReservations#e820()} when building the guest's
     * memory map, {@link RamReservations#seal()} once it is handed to the guest.
     */
    public RamReservations reservations() {
        return reservations;
    }

    private static void removeVfioGroup(KvmVfioDevice dev, int groupFd, String name) {
        try {
            dev.removeGroup(groupFd);
        } catch (RuntimeException e) {
            LOG.warn("KVM_DEV_VFIO_GROUP_DEL of {} (fd {}) failed", name, groupFd, e);
        }
    }

    @Override
    public DeviceEvents deviceEvents() {
        return deviceEvents;
    }

    /**
     * Stops every vCPU thread, on a thread of its own (the caller may be an event loop a vCPU waits for). The VM
     * stays open; {@link #stopReason()} tells why it stopped.
     */
    @Override
    public synchronized void stopGuest(String reason) {
        if (stopReason != null) {
            return; // stopped already (a device may signal its error many times)
        }
        stopReason = reason;
        LOG.error("stopping the guest: {}", reason);
        Thread t = new Thread(() -> {
            for (VcpuThread v : threads) {
                v.stop();
            }
        }, "vfio4j-stop-guest");
        t.setDaemon(true);
        t.start();
    }

    /** Why {@link #stopGuest} stopped the guest, or null while it was never asked to. */
    public String stopReason() {
        return stopReason;
    }

    /**
     * Sets where devices report unplug requests and errors (default: release at once, and stop the guest on an
     * uncorrectable error; {@link DeviceEvents#RELEASE_AT_ONCE} keeps it running).
     */
    public void setDeviceEvents(DeviceEvents events) {
        this.deviceEvents = java.util.Objects.requireNonNull(events, "events");
    }

    /**
     * Stops every vCPU and releases everything. Idempotent.
     *
     * @throws IllegalStateException when called on a vCPU thread (it would unmap the page its own loop uses)
     */
    @Override
    public void close() {
        for (VcpuThread t : threads) {
            if (t.isCurrentThread()) {
                throw new IllegalStateException("KvmVmm.close() called on the thread of vcpu " + t.vcpu().id());
            }
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            for (VcpuThread t : threads) {
                t.stop();
            }
            synchronized (this) {
                if (vfioDevice != null) {
                    // KVM holds a reference on each registered group file, and the group holds one on the VM: a
                    // group left registered would keep both alive (and the group busy) after close.
                    vfioGroups.forEach((fd, name) -> removeVfioGroup(vfioDevice, fd, name));
                    vfioGroups.clear();
                    vfioDevice.close();
                }
            }
            guestMemory.close();
        } finally {
            try {
                vm.close();
            } finally {
                kvm.close();
            }
        }
    }
}
