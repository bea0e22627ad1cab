package org.vfio4j.vfio.platform;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_AMBA;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_PLATFORM;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.vfio.DeviceInfo;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioContainer;
import org.vfio4j.vfio.VfioDevice;
import org.vfio4j.vfio.VfioGroup;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.irq.IrqInfo;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * A platform (or AMBA) device bound to vfio-platform (vfio-amba), passed through to a guest.
 *
 * <p>{@link #open} finds the device under {@code /sys/bus/platform/devices} (or {@code /sys/bus/amba/devices}),
 * opens its group in a new container (type1, or, only when {@link PlatformOptions#unsafeNoIommu()} asks for it, the
 * no-IOMMU type for a device without an IOMMU, which can DMA anywhere), reads its regions and IRQs, and checks them
 * against its device-tree node ({@code of_node}) or its ACPI {@code _CRS} ({@code firmware_node}).
 *
 * <p>{@link #attach} puts each region at the guest address the VMM chose, as device memory when the kernel lets it
 * be mmapped (page-aligned base and size), trapped and forwarded to the device fd otherwise, and routes each IRQ to
 * the guest interrupt the VMM chose: an edge-triggered one through an irqfd; a level-triggered (AUTOMASKED) one
 * through an irqfd with a resample eventfd that VFIO takes as its unmask eventfd, so the host line is unmasked when
 * the guest EOIs. It answers with the {@link PlatformGuestDescription} the VMM tells the guest about.
 *
 * <p>{@link #close()} detaches (memslots, mappings, traps, IRQs) and closes the device, group and container.
 */
public final class VfioPlatformDevice implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VfioPlatformDevice.class);
    /** Where platform devices are in sysfs. */
    public static final String PLATFORM_BUS = "bus/platform/devices/";
    /** Where AMBA devices are in sysfs. */
    public static final String AMBA_BUS = "bus/amba/devices/";
    /** The name the kernel gives a no-IOMMU group ({@code /sys/kernel/iommu_groups/N/name}). */
    static final String NOIOMMU_GROUP_NAME = "vfio-noiommu";

    private final String name;
    private final VfioContainer container;
    private final VfioGroup group;
    private final VfioDevice device;
    private final boolean noIommu;
    private final List<PlatformRegion> regions;
    private final List<PlatformIrq> irqs;
    private final Optional<FirmwareDevice> firmware;
    private final List<AutoCloseable> attached = new ArrayList<>();
    private final LongAdder trappedErrors = new LongAdder();
    private PlatformGuestDescription guest;

    private VfioPlatformDevice(String name, VfioContainer container, VfioGroup group, VfioDevice device,
            boolean noIommu, List<PlatformRegion> regions, List<PlatformIrq> irqs, Optional<FirmwareDevice> fw) {
        this.name = name;
        this.container = container;
        this.group = group;
        this.device = device;
        this.noIommu = noIommu;
        this.regions = List.copyOf(regions);
        this.irqs = List.copyOf(irqs);
        this.firmware = fw;
    }

    /**
     * Opens platform device {@code name} (as in {@code /sys/bus/platform/devices/<name>}).
     *
     * @throws VfioException when it does not exist, isn't bound to vfio-platform/vfio-amba, has no IOMMU and
     *     {@code options} didn't accept that, or isn't a platform device to VFIO
     * @throws FirmwareMismatchException when its regions or IRQs disagree with its firmware description
     */
    public static VfioPlatformDevice open(Vfio vfio, String name, PlatformOptions options) {
        Path dir = deviceDir(vfio, name);
        String driver = link(dir.resolve("driver")).orElse(null);
        if (!"vfio-platform".equals(driver) && !"vfio-amba".equals(driver)) {
            throw new VfioException(name + ": bound to " + (driver == null ? "no driver" : driver) + ", not "
                    + "vfio-platform (write vfio-platform to its driver_override, unbind it, and write its name to "
                    + "/sys/bus/platform/drivers_probe)");
        }
        int groupId = link(dir.resolve("iommu_group")).map(Integer::parseInt).orElseThrow(() -> new VfioException(
                name + ": no iommu_group: no IOMMU, and the kernel's unsafe no-IOMMU mode is off"));
        boolean noIommu = NOIOMMU_GROUP_NAME.equals(read(vfio.sysfs().sys("kernel/iommu_groups/" + groupId
                + "/name")).orElse(""));
        if (noIommu && !options.unsafeNoIommu()) {
            throw new VfioException(name + ": has no IOMMU (group " + groupId + " is the kernel's unsafe no-IOMMU "
                    + "group /dev/vfio/noiommu-" + groupId + "); the device could DMA to any host memory. Refused; "
                    + "PlatformOptions.allowingUnsafeNoIommu() asks for it explicitly");
        }
        Optional<FirmwareDevice> fw = firmwareOf(vfio, dir, name);
        VfioContainer container = vfio.openContainer();
        VfioGroup group = null;
        try {
            group = noIommu ? VfioGroup.openNoIommu(vfio.syscalls(), vfio.sysfs(), groupId)
                    : vfio.openGroup(groupId);
            container.attach(group);
            if (noIommu) {
                container.setNoIommu();
            } else {
                container.setIommu();
            }
            VfioDevice device = group.openDevice(name);
            DeviceInfo info = device.info();
            if ((info.flags() & (VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_AMBA)) == 0) {
                throw new VfioException(name + ": VFIO reports flags " + info.flagNames() + ", neither PLATFORM "
                        + "nor AMBA");
            }
            List<PlatformRegion> regions = new ArrayList<>();
            for (int i = 0; i < info.numRegions(); i++) {
                regions.add(new PlatformRegion(device.regionInfo(i)));
            }
            List<PlatformIrq> irqs = new ArrayList<>();
            for (int i = 0; i < info.numIrqs(); i++) {
                irqs.add(new PlatformIrq(device.irqInfo(i)));
            }
            if (options.checkFirmware() && fw.isPresent()) {
                FirmwareCheck.check(name, regions, irqs, fw.get());
            }
            return new VfioPlatformDevice(name, container, group, device, noIommu, regions, irqs, fw);
        } catch (RuntimeException | Error e) {
            for (AutoCloseable c : new AutoCloseable[] {group, container}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /** The sysfs directory of platform (or AMBA) device {@code name}. */
    static Path deviceDir(Vfio vfio, String name) {
        for (String bus : new String[] {PLATFORM_BUS, AMBA_BUS}) {
            Path p = vfio.sysfs().sys(bus + name);
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        throw new VfioException("no platform or AMBA device " + name + " (not in /sys/" + PLATFORM_BUS + " or /sys/"
                + AMBA_BUS + ")");
    }

    /**
     * What the firmware says about the device in {@code dir}: its device-tree node ({@code of_node}) or its ACPI
     * node's {@code _CRS} ({@code firmware_node}); empty when it has neither.
     */
    public static Optional<FirmwareDevice> firmwareOf(Vfio vfio, String name) {
        return firmwareOf(vfio, deviceDir(vfio, name), name);
    }

    private static Optional<FirmwareDevice> firmwareOf(Vfio vfio, Path dir, String name) {
        Path ofNode = dir.resolve("of_node");
        if (Files.isSymbolicLink(ofNode)) {
            Path base = vfio.sysfs().sys("firmware/devicetree/base");
            try {
                Path realBase = base.toRealPath();
                Path rel = realBase.relativize(ofNode.toRealPath());
                DeviceTree tree = DeviceTree.fromDirectory(realBase);
                String path = "/" + rel.toString().replace('\\', '/');
                DtNode node = tree.node(path).orElseThrow(() -> new DeviceTreeException(name + ": of_node " + path
                        + " is not in the live tree"));
                return Optional.of(tree.describe(node));
            } catch (IOException e) {
                throw new VfioException(name + ": can't read its device-tree node " + ofNode + ": " + e, e);
            }
        }
        Path fwNode = dir.resolve("firmware_node");
        if (Files.isSymbolicLink(fwNode)) {
            Optional<String> acpiPath = read(fwNode.resolve("path"));
            if (acpiPath.isPresent()) {
                Path dsdt = vfio.sysfs().sys("firmware/acpi/tables/DSDT");
                try {
                    return Optional.of(AcpiResources.parse(Files.readAllBytes(dsdt)).describe(acpiPath.get()));
                } catch (IOException e) {
                    throw new VfioException(name + ": can't read the DSDT " + dsdt + ": " + e, e);
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> link(Path p) {
        try {
            return Optional.of(Files.readSymbolicLink(p).getFileName().toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> read(Path p) {
        try {
            return Optional.of(Files.readString(p).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The device name. */
    public String name() {
        return name;
    }

    /** The VFIO device (for raw access). */
    public VfioDevice device() {
        return device;
    }

    /** The group it was opened from. */
    public VfioGroup group() {
        return group;
    }

    /** True when it was opened without an IOMMU: it can DMA to any host memory. */
    public boolean noIommu() {
        return noIommu;
    }

    /** True for a vfio-amba device (AMBA flag), false for vfio-platform. */
    public boolean amba() {
        return (device.info().flags() & VFIO_DEVICE_FLAGS_AMBA) != 0;
    }

    /** The regions, in index order. */
    public List<PlatformRegion> regions() {
        return regions;
    }

    /** The IRQs, in index order. */
    public List<PlatformIrq> irqs() {
        return irqs;
    }

    /** The firmware description it was checked against; empty when the firmware doesn't describe it. */
    public Optional<FirmwareDevice> firmware() {
        return firmware;
    }

    /** True when VFIO can reset it (a reset module for its compatible, or ACPI _RST). */
    public boolean resettable() {
        return device.info().resettable();
    }

    /**
     * Resets the device ({@code VFIO_DEVICE_RESET}).
     *
     * @throws VfioException without asking the kernel when it has no reset (vfio-platform bound it only because
     *     it was loaded with {@code reset_required=0})
     */
    public void reset() {
        if (!resettable()) {
            throw new VfioException(name + ": vfio-platform has no reset for it (no reset module for its compatible "
                    + firmware.map(FirmwareDevice::compatible).orElse(List.of()) + " and no ACPI _RST; it was bound "
                    + "only because vfio_platform.reset_required=0)");
        }
        device.reset();
    }

    /** Trapped accesses the device fd refused (answered with all-ones / dropped). */
    public long trappedErrors() {
        return trappedErrors.sum();
    }

    /**
     * Places the device in the guest of {@code vmm}: region {@code i} at {@code placement.regionBases().get(i)},
     * IRQ {@code i} on guest interrupt {@code placement.guestIrqs().get(i)}. I/O-port regions are left out (VFIO
     * can't reach them); their base is ignored. On failure, what was set up is undone.
     *
     * @return what to tell the guest
     */
    public synchronized PlatformGuestDescription attach(Vmm vmm, Placement placement) {
        if (guest != null) {
            throw new IllegalStateException(name + " is already attached");
        }
        if (placement.regionBases().size() != regions.size() || placement.guestIrqs().size() != irqs.size()) {
            throw new IllegalArgumentException(String.format("%s has %d regions and %d IRQs; the placement gives %d "
                    + "addresses and %d interrupts", name, regions.size(), irqs.size(),
                    placement.regionBases().size(), placement.guestIrqs().size()));
        }
        List<GuestRegion> gr = new ArrayList<>();
        List<GuestIrq> gi = new ArrayList<>();
        try {
            for (PlatformRegion r : regions) {
                if (r.ioPort() || r.size() == 0) {
                    continue;
                }
                gr.add(placeRegion(vmm, r, placement.regionBases().get(r.index())));
            }
            for (PlatformIrq q : irqs) {
                gi.add(routeIrq(vmm.interrupts(), q, placement.guestIrqs().get(q.index())));
            }
        } catch (RuntimeException | Error e) {
            release(e);
            throw e;
        }
        FirmwareDevice fw = firmware.orElse(null);
        guest = new PlatformGuestDescription(name, fw != null ? fw.source() : "", fw != null ? fw.compatible()
                : List.of(), gr, gi, fw != null ? fw.properties() : java.util.Map.of());
        return guest;
    }

    /** Where the VMM puts the regions and which guest interrupts the IRQs raise, by index. */
    public record Placement(List<Long> regionBases, List<Integer> guestIrqs) {
        /** Copies the lists. */
        public Placement {
            regionBases = List.copyOf(regionBases);
            guestIrqs = List.copyOf(guestIrqs);
        }
    }

    private GuestRegion placeRegion(Vmm vmm, PlatformRegion r, long base) {
        RegionInfo info = r.info();
        VfioRegion region = new VfioRegion(device.descriptor(), info);
        String what = name + " region " + r.index();
        if (r.mmappable() && (base & (Linux.PAGE_SIZE - 1)) == 0) {
            MemoryMapping m = region.mmap(0, r.size());
            attached.add(m);
            DeviceMemorySlot slot = vmm.deviceMemory().map(base, r.size(), m.address(), !r.writable(), what);
            attached.add(slot);
            return new GuestRegion(r.index(), base, r.size(), true, !r.writable());
        }
        TrapBus.Registration reg = vmm.mmioBus().register(base, r.size(), new Forward(region, what), what);
        attached.add(reg);
        return new GuestRegion(r.index(), base, r.size(), false, !r.writable());
    }

    private GuestIrq routeIrq(InterruptController ic, PlatformIrq q, int gsi) {
        IrqInfo info = q.info();
        if (!info.eventfd()) {
            throw new VfioException(name + ": IRQ " + q.index() + " does not take an eventfd (flags " + info + ")");
        }
        EventFd trigger = EventFd.create(device.descriptor().syscalls(), name + " irq " + q.index());
        attached.add(trigger);
        EventFd resample = null;
        if (info.automasked()) {
            resample = EventFd.create(device.descriptor().syscalls(), name + " irq " + q.index() + " resample");
            attached.add(resample);
        }
        InterruptController.IrqFdBinding binding = ic.irqFd(trigger, gsi, resample);
        attached.add(binding);
        int index = q.index();
        device.irqs().trigger(index, 0, trigger);
        attached.add(() -> device.irqs().disable(index));
        if (resample != null) {
            device.irqs().unmaskOnEventfd(index, 0, resample.fd());
            attached.add(() -> device.irqs().unmaskOnEventfd(index, 0, org.vfio4j.vfio.irq.IrqControl.NO_EVENTFD));
        }
        return new GuestIrq(index, gsi, q.trigger());
    }

    /** Forwards trapped guest accesses to the region through the device fd; a failure is the hardware's answer. */
    private final class Forward implements TrapHandler {
        private final VfioRegion region;
        private final String what;
        private final boolean readable;
        private final boolean writable;
        private final AtomicBoolean warned = new AtomicBoolean();

        Forward(VfioRegion region, String what) {
            this.region = region;
            this.what = what;
            this.readable = region.info().readable();
            this.writable = region.info().writable();
        }

        @Override
        public long read(long offset, int size) {
            if (!readable) {
                return TrapHandler.allOnes(size);
            }
            try {
                return region.read(offset, size);
            } catch (RuntimeException e) {
                failed(e);
                return TrapHandler.allOnes(size);
            }
        }

        @Override
        public void write(long offset, int size, long value) {
            if (!writable) {
                return;
            }
            try {
                region.write(offset, size, value);
            } catch (RuntimeException e) {
                failed(e);
            }
        }

        private void failed(RuntimeException e) {
            trappedErrors.increment();
            if (warned.compareAndSet(false, true)) {
                LOG.warn("{}: a trapped access failed ({}); such accesses read all-ones and drop writes, counted in "
                        + "trappedErrors()", what, e.getMessage());
            }
        }
    }

    /** The description {@link #attach} answered; empty before. */
    public synchronized Optional<PlatformGuestDescription> guest() {
        return Optional.ofNullable(guest);
    }

    /** Undoes {@link #attach}: IRQs off, irqfds and eventfds closed, memslots removed, regions unmapped, traps released. */
    public synchronized void detach() {
        RuntimeException e = new RuntimeException("detach of " + name);
        release(e);
        guest = null;
        if (e.getSuppressed().length > 0) {
            VfioException v = new VfioException(name + ": detach failed in part: " + e.getSuppressed()[0]);
            for (Throwable t : e.getSuppressed()) {
                v.addSuppressed(t);
            }
            throw v;
        }
    }

    private void release(Throwable into) {
        // Newest first: memslots before the mappings under them, VFIO's IRQ before its eventfds.
        for (int i = attached.size() - 1; i >= 0; i--) {
            try {
                attached.get(i).close();
            } catch (Exception | Error t) {
                into.addSuppressed(t);
            }
        }
        attached.clear();
    }

    /** Detaches, then closes the device, its group and the container; idempotent. */
    @Override
    public void close() {
        RuntimeException first = null;
        try {
            detach();
        } catch (RuntimeException e) {
            first = e;
        }
        for (AutoCloseable c : new AutoCloseable[] {device, group, container}) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new VfioException(e.toString(), e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return name + (amba() ? " (vfio-amba" : " (vfio-platform") + (noIommu ? ", no IOMMU)" : ")");
    }
}
