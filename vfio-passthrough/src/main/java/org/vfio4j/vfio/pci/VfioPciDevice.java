package org.vfio4j.vfio.pci;

import static org.vfio4j.pci.config.PciRegisters.PCI_INTERRUPT_LINE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.util.Closer;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.bus.PciAddress;
import org.vfio4j.pci.bus.PciBus;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.vfio.DeviceInfo;
import org.vfio4j.pci.config.ConfigView;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioContext;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.irq.IrqInfo;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.reset.ResetMethod;

/**
 * A host PCI function passed through to a guest with VFIO: one of the VMM's PCI functions whose config space is
 * virtualized, whose BARs are mapped into the guest where VFIO allows it (trapped elsewhere), whose interrupts are
 * routed to the guest, and which can DMA into all of guest RAM.
 *
 * <pre>{@code
 * try (VfioContext vfio = VfioContext.create(Vfio.host(), vmm);
 *         VfioPciDevice dev = VfioPciDevice.attach(vfio, hostBridge.rootBus(),
 *                 VfioPciOptions.builder("0000:01:00.0").slot(3).build())) {
 *     ... run the guest ...
 * }
 * }</pre>
 *
 * <p>Attach does, in order: open the function in the VM's {@link VfioContext} (its group or cdev, the device fd, the
 * hypervisor registration, the DMA mapping of guest RAM the VM's devices share), optionally reset, build the
 * virtual config space, start ERR/REQ/INTx, plan the BARs, install quirks, mmap the BARs, and finally put the
 * function on the guest bus. Detach undoes it in reverse; so does a failed
 * attach, for the steps done so far.
 */
public final class VfioPciDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VfioPciDevice.class);
    /** Advanced Features capability: AF_CAP at +3 (bit 1: FLR supported), AF_CTRL at +4 (bit 0: initiate FLR). */
    static final int PCI_CAP_ID_AF = 0x13;
    static final int PCI_AF_CAP = 3;
    static final int PCI_AF_CAP_FLR = 0x02;
    static final int PCI_AF_CTRL = 4;
    static final int PCI_AF_CTRL_FLR = 0x01;

    private final String name;
    private final Vmm vmm;
    private final PciBus bus;
    private final VfioContext context;
    /** The context was made for this device alone ({@link #attach(Vfio, Vmm, PciBus, VfioPciOptions)}). */
    private final boolean ownsContext;
    private VfioContext.Member member;
    private VfioDevice device;
    private final VfioPciOptions options;
    private final Deque<AutoCloseable> undo = new ArrayDeque<>();
    private final AtomicBoolean detached = new AtomicBoolean();
    private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
    private volatile Thread detaching;
    private final GuestLog guestLog;
    private PciAddress address;
    private VirtualConfig config;
    private GuestConfig guestConfig;
    private BarMapper barMapper;
    private Interrupts interrupts;
    private ErrorAndRequestWatch errorsAndRequests;
    private volatile ResetMethod lastReset = ResetMethod.NONE;

    private VfioPciDevice(VfioContext context, boolean ownsContext, PciBus bus, VfioPciOptions options) {
        this.context = context;
        this.ownsContext = ownsContext;
        this.vmm = context.vmm();
        this.bus = bus;
        this.options = options;
        this.name = context.vfio().sysfs().deviceName(options.host());
        this.guestLog = new GuestLog(LOG, name);
    }

    /**
     * Attaches the host function named in {@code options} to {@code bus} through the VM's VFIO {@code context}, which
     * it shares with the VM's other devices (one IOMMU context, one DMA mapping of guest RAM, groups opened once).
     * On failure everything this call took is released and the exception says which step failed.
     */
    public static VfioPciDevice attach(VfioContext context, PciBus bus, VfioPciOptions options) {
        return attach(context, false, bus, options);
    }

    /**
     * Attaches the host function named in {@code options} with a VFIO context of its own (the backend
     * {@link VfioBackend#AUTO} chooses), closed again at detach: for a VM with one passed-through device. A VM with
     * several uses {@link #attach(VfioContext, PciBus, VfioPciOptions)}, or two functions of one IOMMU group could
     * not both be attached.
     */
    public static VfioPciDevice attach(Vfio vfio, Vmm vmm, PciBus bus, VfioPciOptions options) {
        VfioContext own = VfioContext.create(vfio, vmm, VfioBackend.AUTO, options.eventLoop().orElse(null));
        try {
            return attach(own, true, bus, options);
        } catch (RuntimeException | Error e) {
            try {
                own.close();
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static VfioPciDevice attach(VfioContext context, boolean ownsContext, PciBus bus,
            VfioPciOptions options) {
        VfioPciDevice d = new VfioPciDevice(context, ownsContext, bus, options);
        try {
            d.build();
            return d;
        } catch (RuntimeException | Error e) {
            // An Error too (a JNA UnsatisfiedLinkError, an OutOfMemoryError): fds, DMA pins and the KVM-VFIO
            // registration must not outlive a failed attach.
            try {
                d.detach();
            } catch (RuntimeException | Error suppressed) {
                if (suppressed != e) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private void build() {
        if (ownsContext) {
            undo.push(context);
        }
        member = context.open(options.host(), options.mapDma());
        undo.push(member);
        device = member.device();
        if (!device.info().pci()) {
            throw new VfioException(name + ": not a vfio-pci device (flags " + device.info().flagNames() + ")");
        }
        int count = Math.max(device.info().numRegions(), VFIO_PCI_CONFIG_REGION_INDEX + 1);
        RegionInfo[] regions = new RegionInfo[count];
        for (RegionInfo r : device.regions()) {
            regions[r.index()] = r;
        }
        if (regions[VFIO_PCI_CONFIG_REGION_INDEX] == null) {
            throw new VfioException(name + ": device has no config region");
        }
        if (options.resetOnAttach()) {
            lastReset = context.reset(member); // no hooks yet: nothing of the guest to restore
        }
        address = chooseAddress();

        // Undone just before the DMA unmap (after interrupts are torn down): the device must not master the bus
        // while guest RAM leaves its IOMMU, or its DMA in flight hits unmapped IOVAs (IOMMU faults) or, worse,
        // pages the host reuses.
        undo.push(this::stopBusMastering);

        EventLoop loop = options.eventLoop().orElse(context.eventLoop());
        DeviceEvents events = options.events().orElseGet(vmm::deviceEvents);
        IrqInfo msiInfo = irqInfo(device, VFIO_PCI_MSI_IRQ_INDEX);
        IrqInfo intxInfo = irqInfo(device, VFIO_PCI_INTX_IRQ_INDEX);
        // The swizzle needs the pin, which is only known once config space is read; the line register is fixed up.
        int gsi = options.intxGsi() >= 0 ? options.intxGsi() : 16 + address.device() % 4;
        Interrupts[] holder = new Interrupts[1];
        config = VirtualConfig.build(name, device.region(VFIO_PCI_CONFIG_REGION_INDEX), padded(regions),
                msiInfo == null ? 0 : msiInfo.count(), intxInfo != null && intxInfo.count() > 0, gsi,
                m -> holder[0].deliverMsi(m), m -> holder[0].deliverMsix(m), guestLog);
        int pin = config.interruptPin;
        if (pin != 0 && options.intxGsi() < 0) {
            gsi = 16 + (address.device() + pin - 1) % 4;
            config.cs.setByte(PCI_INTERRUPT_LINE, gsi);
        }
        ErrorAndRequestWatch watch = new ErrorAndRequestWatch(name, device);
        errorsAndRequests = watch;
        undo.push(watch);
        watch.start(context.vfio().syscalls(), loop, events, this::releaseAsync, guestLog);
        Interrupts irq = new Interrupts(name, context.vfio().syscalls(), device, vmm.interrupts(), loop, gsi, pin, guestLog);
        holder[0] = irq;
        irq.attachCapabilities(config.msi, config.msix);
        interrupts = irq;
        undo.push(irq);
        irq.start();

        BarMapper mapper = new BarMapper(name, vmm, device, config.bars, padded(regions), options.mmapBars(),
                guestLog);
        barMapper = mapper;
        undo.push(mapper);
        guestConfig = new GuestConfig(config, mapper, irq, this::guestFunctionLevelReset, guestLog);
        if (config.msix != null) {
            mapper.addSpecial(config.msix.tableBar(), config.msix.tableOffset(), config.msix.tableBytes(),
                    guestConfig.msixTable(config.msix), "MSI-X table");
            mapper.addSpecial(config.msix.pbaBar(), config.msix.pbaOffset(), config.msix.pbaBytes(),
                    config.msix.pbaHandler(), "MSI-X PBA");
        }
        List<RegionInfo> regionList = new ArrayList<>();
        for (RegionInfo r : regions) {
            if (r != null) {
                regionList.add(r);
            }
        }
        Context ctx = new Context(regionList);
        for (DeviceQuirk q : options.quirks()) {
            if (q.appliesTo(ctx)) {
                AutoCloseable u;
                try {
                    u = q.install(ctx);
                } catch (RuntimeException e) {
                    throw new VfioException(name + ": quirk " + q.name() + " refused the device: " + e.getMessage(),
                            e);
                }
                undo.push(u == null ? () -> { } : u);
                LOG.info("{}: quirk {} installed", name, q.name());
            }
        }
        mapper.activate();
        interceptFunctionLevelReset();

        bus.attach(address.device(), address.function(), guestConfig);
        undo.push(() -> {
            bus.detach(address.device(), address.function());
            guestConfig.retire();
        });
        member.resetHooks(new ContextResetHooks());
        LOG.info("{}: attached at {} (hidden caps {})", name, address, config.hidden);
    }

    /**
     * A guest FLR (PCIe device control bit 15) must reset the VMM's view too, or the guest's restore after it leaves
     * VFIO's interrupts pointing at a function that forgot them. So the bit is emulated (it never reaches the kernel,
     * which would reset the function behind the VMM's back) and a write of it runs the VMM's reset, then puts the
     * guest-visible state to its power-on values: decode off, BARs unassigned, MSI and MSI-X disabled. The write
     * returns {@link ConfigChange.FunctionResetRequested}, which {@link GuestConfig} applies after it.
     */
    private void interceptFunctionLevelReset() {
        ConfigSpace cs = config.cs;
        // The Advanced Features capability's FLR (conventional PCI functions): same treatment.
        config.caps.find(PCI_CAP_ID_AF).ifPresent(af -> {
            if ((cs.getByte(af.offset() + PCI_AF_CAP) & PCI_AF_CAP_FLR) == 0) {
                return;
            }
            int ctrl = af.offset() + PCI_AF_CTRL;
            cs.addEmulated(ctrl, 1, PCI_AF_CTRL_FLR);
            cs.clearBits(ctrl, 1, PCI_AF_CTRL_FLR);
            cs.addWriteHook(ctrl, 1, (offset, size, value, before, after) ->
                    ((value << (8 * (offset - ctrl))) & PCI_AF_CTRL_FLR) != 0
                            ? List.of(new ConfigChange.FunctionResetRequested()) : List.of());
        });
        config.caps.find(org.vfio4j.pci.config.PciRegisters.PCI_CAP_ID_EXP).ifPresent(pcie -> {
            int devcap = cs.getDword(pcie.offset() + org.vfio4j.pci.config.PciRegisters.PCI_EXP_DEVCAP);
            if ((devcap & org.vfio4j.pci.config.PciRegisters.PCI_EXP_DEVCAP_FLR) == 0) {
                return;
            }
            int devctl = pcie.offset() + org.vfio4j.pci.config.PciRegisters.PCI_EXP_DEVCTL;
            cs.addEmulated(devctl, 2, org.vfio4j.pci.config.PciRegisters.PCI_EXP_DEVCTL_BCR_FLR);
            cs.clearBits(devctl, 2, org.vfio4j.pci.config.PciRegisters.PCI_EXP_DEVCTL_BCR_FLR);
            cs.addWriteHook(devctl, 2, (offset, size, value, before, after) ->
                    ((value << (8 * (offset - devctl))) & org.vfio4j.pci.config.PciRegisters.PCI_EXP_DEVCTL_BCR_FLR)
                            != 0 ? List.of(new ConfigChange.FunctionResetRequested()) : List.of());
        });
    }

    /** Runs on the vCPU thread after the guest's FLR write, with the device lock held ({@link GuestConfig}). */
    private void guestFunctionLevelReset() {
        GuestConfig guest = guestConfig;
        interrupts.suspend();
        try {
            lastReset = resetHardware();
        } catch (RuntimeException e) {
            LOG.warn("{}: guest-initiated function level reset failed", name, e);
        } finally {
            guest.writeAndApply(org.vfio4j.pci.config.PciRegisters.PCI_COMMAND, 2, 0);
            for (org.vfio4j.pci.bar.BarDefinition d : config.bars.definitions()) {
                int reg = org.vfio4j.pci.config.PciRegisters.PCI_BASE_ADDRESS_0 + 4 * d.index();
                guest.writeAndApply(reg, 4, 0);
                if (d.type() == org.vfio4j.pci.bar.BarType.MEMORY64) {
                    guest.writeAndApply(reg + 4, 4, 0);
                }
            }
            if (config.bars.romSize() > 0) {
                guest.writeAndApply(org.vfio4j.pci.config.PciRegisters.PCI_ROM_ADDRESS, 4, 0);
            }
            if (config.msi != null) {
                guest.writeAndApply(config.msi.offset() + org.vfio4j.pci.config.PciRegisters.PCI_MSI_FLAGS, 2, 0);
            }
            if (config.msix != null) {
                guest.writeAndApply(config.caps.find(org.vfio4j.pci.config.PciRegisters.PCI_CAP_ID_MSIX).orElseThrow()
                        .offset()
                        + org.vfio4j.pci.config.PciRegisters.PCI_MSIX_FLAGS, 2, 0);
                maskEveryMsixEntry();
            }
            interrupts.resume();
            LOG.info("{}: guest function level reset done ({})", name, lastReset);
        }
    }

    /**
     * Puts the MSI-X table at its reset values (every entry zero and masked), as an FLR does in the function. MSI-X
     * is disabled by then, so the writes change nothing else.
     */
    private void maskEveryMsixEntry() {
        MsixCapability msix = config.msix;
        for (int v = 0; v < msix.vectors(); v++) {
            msix.writeTable(16L * v, 4, 0);
            msix.writeTable(16L * v + 4, 4, 0);
            msix.writeTable(16L * v + 8, 4, 0);
            msix.writeTable(16L * v + 12, 4, 1);
        }
    }

    /** Clears bus mastering in the device (not in the guest's view): the first step of letting go of it. */
    private void stopBusMastering() {
        org.vfio4j.vfio.region.VfioRegion cfg = device.region(VFIO_PCI_CONFIG_REGION_INDEX);
        long command = cfg.read(org.vfio4j.pci.config.PciRegisters.PCI_COMMAND, 2);
        if ((command & org.vfio4j.pci.config.PciRegisters.PCI_COMMAND_MASTER) != 0) {
            cfg.write(org.vfio4j.pci.config.PciRegisters.PCI_COMMAND, 2,
                    command & ~org.vfio4j.pci.config.PciRegisters.PCI_COMMAND_MASTER);
        }
    }

    private static IrqInfo irqInfo(VfioDevice device, int index) {
        if (index >= device.info().numIrqs()) {
            return null;
        }
        return device.irqInfo(index);
    }

    private static RegionInfo[] padded(RegionInfo[] regions) {
        if (regions.length > PciBars.ROM) {
            return regions;
        }
        RegionInfo[] out = new RegionInfo[PciBars.ROM + 1];
        System.arraycopy(regions, 0, out, 0, regions.length);
        return out;
    }

    private PciAddress chooseAddress() {
        if (options.slot() >= 0) {
            if (bus.function(options.slot(), options.function()) != null) {
                throw new VfioException(String.format("%s: guest slot %02x.%x on bus %d is taken", name,
                        options.slot(), options.function(), bus.number()));
            }
            return new PciAddress(bus.number(), options.slot(), options.function());
        }
        for (int dev = 0; dev < 32; dev++) {
            if (bus.function(dev, options.function()) == null && (options.function() != 0
                    || !bus.isMultiFunction(dev))) {
                return new PciAddress(bus.number(), dev, options.function());
            }
        }
        throw new VfioException(name + ": no free slot on guest bus " + bus.number());
    }

    /** Runs detach off the event loop (REQ arrives on it; detach waits for the loop). */
    private void releaseAsync() {
        Thread t = new Thread(() -> {
            try {
                detach();
            } catch (RuntimeException e) {
                LOG.error("{}: releasing the device after REQ failed", name, e);
            }
        }, "vfio4j-release-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** Guest-driven log lines the per-cause rate limit left out so far. */
    public long suppressedLogLines() {
        return guestLog.suppressed();
    }

    /** The interrupt router (for tests in this package). */
    Interrupts interrupts() {
        return interrupts;
    }

    /** The virtual config space and its capabilities (for tests in this package). */
    VirtualConfig virtualConfig() {
        return config;
    }

    /** The host function's name (its BDF). */
    public String name() {
        return name;
    }

    /** Where the function sits on the guest bus. */
    public PciAddress address() {
        return address;
    }

    /**
     * A read-only view of the guest-visible config space (virtualized; a read of non-emulated bits reaches the
     * device). Guest writes arrive through the bus, where their effects are applied.
     */
    public ConfigView config() {
        return config.cs.view();
    }

    /** The VFIO context this function was attached through (shared with the VM's other devices). */
    public VfioContext context() {
        return context;
    }

    /** What the kernel says about the host function ({@code VFIO_DEVICE_GET_INFO}): flags, regions, IRQs. */
    public DeviceInfo deviceInfo() {
        return device.info();
    }

    /** A snapshot of the mapping layout and counters. */
    public VfioPciCounters counters() {
        return new VfioPciCounters(barMapper == null ? List.of() : barMapper.layouts(), interruptMode(),
                interrupts == null ? 0 : interrupts.kernelRoutedVectors(),
                interrupts == null ? Map.of() : interrupts.userspaceCounts(),
                errorsAndRequests == null ? 0 : errorsAndRequests.errors.get(),
                errorsAndRequests == null ? 0 : errorsAndRequests.requests.get(),
                guestConfig == null ? 0 : guestConfig.reads(), guestConfig == null ? 0 : guestConfig.writes(),
                options.mapDma() ? context.guestRamMappedBytes() : 0, lastReset,
                interrupts == null ? 0 : interrupts.setupFailures.get(), guestLog.suppressed());
    }

    /**
     * The type1 container's current {@code DMA_AVAIL} (how many more DMA mappings the kernel allows), when the kernel
     * reports it: the number a leak test compares before and after attach/detach cycles. Empty with iommufd.
     */
    public OptionalLong dmaAvailable() {
        return context.dmaAvailable();
    }

    /** The interrupt mode the guest enabled. */
    public InterruptMode interruptMode() {
        return interrupts == null ? InterruptMode.NONE : interrupts.mode();
    }

    /**
     * Resets the function: {@code VFIO_DEVICE_RESET} when the device supports it, else a PCI hot reset when this
     * VM's context owns every device the reset affects (those are suspended and restored around it too), else
     * nothing. Interrupts are torn down first; the virtualized config state (command decode bits, MSI/MSI-X
     * programming) is written back afterwards, and BAR mappings stay.
     *
     * @return the reset used
     */
    public ResetMethod reset() {
        if (detached.get()) {
            throw new IllegalStateException(name + " is detached");
        }
        // The context runs this device's hooks (and those of every other device a hot reset covers) in its reset
        // lock, always taken before any device lock.
        lastReset = context.reset(member);
        return lastReset;
    }

    /** A guest FLR: runs with this device's lock held and its interrupts suspended (see guestFunctionLevelReset). */
    private ResetMethod resetHardware() {
        return context.resetForGuest(member);
    }

    /** True until {@link #detach()}. */
    public boolean isAttached() {
        return !detached.get();
    }

    /**
     * Removes the function from the guest bus and releases everything it holds: trap registrations, memslots,
     * mmaps, irqfds, MSI routes, DMA mappings, the KVM-VFIO registration, the event loop it started, and the VFIO
     * device, group and container. Idempotent; a call while another thread is releasing returns when that is done.
     * Each step runs even when an earlier one failed; the first failure is thrown at the end with the others
     * suppressed.
     */
    public void detach() {
        if (!detached.compareAndSet(false, true)) {
            // Another thread may be releasing (a REQ release runs on its own): return only once it is done, so a
            // caller can count on everything being released when detach returns.
            if (Thread.currentThread() != detaching) {
                boolean interrupted = false;
                while (true) {
                    try {
                        released.await();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            return;
        }
        detaching = Thread.currentThread();
        try {
            release();
        } finally {
            released.countDown();
        }
    }

    private void release() {
        Closer cleanup = new Closer();
        while (!undo.isEmpty()) {
            cleanup.run(undo.pop()::close); // every step, even after an Error in an earlier one
        }
        cleanup.rethrow();
        LOG.info("{}: detached", name);
    }

    /** Same as {@link #detach()}. */
    @Override
    public void close() {
        detach();
    }

    @Override
    public String toString() {
        return "VfioPciDevice[" + name + " at " + address + (detached.get() ? ", detached" : "") + "]";
    }

    /**
     * What this device does around a reset the VM's context runs for it (its own, a sibling's hot reset that covers
     * it, a system reset): under the device lock, as a guest config write applies its effects under it (a guest
     * access during the reset waits), interrupts torn down before and the virtualized state written back after.
     */
    private final class ContextResetHooks implements VfioContext.ResetHooks {
        @Override
        public void aroundReset(Runnable reset) {
            synchronized (guestConfig) {
                interrupts.suspend();
                try {
                    reset.run();
                } finally {
                    guestConfig.restoreAfterReset();
                    interrupts.resume();
                }
            }
        }

        @Override
        public void detach() {
            VfioPciDevice.this.detach();
        }
    }

    /** What quirks see during attach. */
    private final class Context implements QuirkContext {
        private final List<RegionInfo> regions;

        Context(List<RegionInfo> regions) {
            this.regions = List.copyOf(regions);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public VfioDevice device() {
            return device;
        }

        @Override
        public List<RegionInfo> regions() {
            return regions;
        }

        @Override
        public ConfigSpace config() {
            return config.cs;
        }

        @Override
        public CapabilityList capabilities() {
            return config.caps;
        }

        @Override
        public Vmm vmm() {
            return vmm;
        }

        @Override
        public PciBus bus() {
            return bus;
        }

        @Override
        public PciAddress address() {
            return address;
        }

        @Override
        public void trapBarRange(int bar, long offset, long length, TrapHandler handler) {
            barMapper.addSpecial(bar, offset, length, handler, "quirk");
        }
    }
}
