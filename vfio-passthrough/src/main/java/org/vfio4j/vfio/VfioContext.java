package org.vfio4j.vfio;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.VfioGroupRegistrar;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.errors.GroupNotViableException;
import org.vfio4j.vfio.errors.HotResetRefusedException;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.iommu.DmaMapper;
import org.vfio4j.vfio.iommu.Type1Iommu;
import org.vfio4j.vfio.iommufd.CdevHotReset;
import org.vfio4j.vfio.iommufd.Iommufd;
import org.vfio4j.vfio.iommufd.IommufdIoas;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.iommufd.VfioCdev;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.HotResetInfo;
import org.vfio4j.vfio.reset.PciHotReset;
import org.vfio4j.vfio.reset.ResetMethod;

/**
 * Everything VFIO one VM shares between its passed-through devices: one IOMMU context (a legacy container with its
 * type1 IOMMU, or an iommufd with one IOAS), the IOMMU groups opened for the devices (each opened once, counted by
 * its users), one DMA mapping of all of guest RAM (made when the first device that needs DMA joins, following RAM
 * hot-plug once, released when the last leaves), the hypervisor registration of each group or device cdev, and the
 * event loop that serves the devices' eventfds.
 *
 * <p>Because groups are shared, every function of one IOMMU group can be assigned to the same VM (a GPU and its
 * HDMI audio function, the ports of a multi-function NIC), and a PCI hot reset can be run with the fds of every
 * group it affects; {@link #hotReset(Member)} also suspends and restores each affected device around it.
 *
 * <p>One context per VM, created before its first device and closed after its last (closing it detaches the
 * devices still attached through it). Thread-safe.
 *
 * <pre>{@code
 * try (VfioContext vfio = VfioContext.create(Vfio.host(), vmm, VfioBackend.AUTO, null)) {
 *     VfioPciDevice gpu = VfioPciDevice.attach(vfio, bus, VfioPciOptions.builder("0000:01:00.0").build());
 *     VfioPciDevice audio = VfioPciDevice.attach(vfio, bus, VfioPciOptions.builder("0000:01:00.1").build());
 *     ...
 * }
 * }</pre>
 */
public final class VfioContext implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VfioContext.class);
    /** sysfs name of the iommufd misc device: present when the kernel has CONFIG_IOMMUFD. */
    static final String IOMMUFD_SYSFS = "class/misc/iommu";

    private final Vfio vfio;
    private final Vmm vmm;
    private final GuestMemory memory;
    private final Optional<VfioGroupRegistrar> registrar;
    private final EventLoop loop;
    private final boolean ownsLoop;
    private final VfioBackend backend;
    /** Opened with the first device (so a VM without devices needs no /dev/vfio), closed with the context. */
    private VfioContainer container;
    private Iommufd iommufd;
    private IommufdIoas ioas;
    private final Map<Integer, OpenGroup> groups = new LinkedHashMap<>();
    private final List<Member> members = new ArrayList<>();
    /**
     * Serializes the resets of this VM's devices; taken before any device's own lock (the hooks take those, nested
     * in member order), so resets on two threads can't deadlock on each other's devices.
     */
    private final ReentrantLock resetLock = new ReentrantLock();
    private GuestRamDma ram;
    private int ramUsers;
    private boolean closed;

    private VfioContext(Vfio vfio, Vmm vmm, VfioBackend backend, EventLoop loop, boolean ownsLoop) {
        this.vfio = vfio;
        this.vmm = vmm;
        this.memory = vmm.guestMemory();
        this.registrar = vmm.vfioGroupRegistrar();
        this.backend = backend;
        this.loop = loop;
        this.ownsLoop = ownsLoop;
    }

    /**
     * Creates the context of one VM.
     *
     * @param vfio the syscall seam and sysfs view
     * @param vmm the VM: its guest memory is DMA-mapped, its hypervisor registers the groups or cdevs
     * @param backend which VFIO interface to use; {@link VfioBackend#AUTO} takes iommufd with device cdevs when the
     *     kernel has them ({@code /sys/class/misc/iommu} and {@code /dev/vfio/devices}), else the legacy container,
     *     unless the system property {@value VfioBackend#PROPERTY} pins it ({@code legacy}, {@code iommufd})
     * @param loop the event loop for the devices' eventfds; null makes the context start (and later stop) its own
     *     one-thread loop
     */
    public static VfioContext create(Vfio vfio, Vmm vmm, VfioBackend backend, EventLoop loop) {
        Objects.requireNonNull(vfio, "vfio");
        Objects.requireNonNull(vmm, "vmm");
        VfioBackend chosen = resolve(vfio, Objects.requireNonNull(backend, "backend"));
        EventLoop own = loop == null ? new EventLoop(1) : null;
        return new VfioContext(vfio, vmm, chosen, loop != null ? loop : own, own != null);
    }

    /** A context on {@code vmm} with the backend {@link VfioBackend#AUTO} chooses and its own event loop. */
    public static VfioContext create(Vfio vfio, Vmm vmm) {
        return create(vfio, vmm, VfioBackend.AUTO, null);
    }

    private static VfioBackend resolve(Vfio vfio, VfioBackend backend) {
        if (backend != VfioBackend.AUTO) {
            return backend;
        }
        String pinned = System.getProperty(VfioBackend.PROPERTY, "auto").trim();
        switch (pinned) {
            case "legacy":
                return VfioBackend.LEGACY_CONTAINER;
            case "iommufd":
                return VfioBackend.IOMMUFD_CDEV;
            case "auto":
            case "":
                break;
            default:
                throw new IllegalArgumentException("-D" + VfioBackend.PROPERTY + "=" + pinned
                        + ": expected legacy, iommufd or auto");
        }
        boolean iommufd = Files.exists(vfio.sysfs().sys(IOMMUFD_SYSFS))
                && Files.isDirectory(vfio.sysfs().root().resolve(VfioCdev.DEVICES_DIR.substring(1)));
        return iommufd ? VfioBackend.IOMMUFD_CDEV : VfioBackend.LEGACY_CONTAINER;
    }

    /** The backend in use: {@link VfioBackend#LEGACY_CONTAINER} or {@link VfioBackend#IOMMUFD_CDEV}. */
    public VfioBackend backend() {
        return backend;
    }

    /** The loop that serves the devices' eventfds. */
    public EventLoop eventLoop() {
        return loop;
    }

    /** The VM this context belongs to. */
    public Vmm vmm() {
        return vmm;
    }

    /** The syscall seam and sysfs view the context opens devices with. */
    public Vfio vfio() {
        return vfio;
    }

    /**
     * Opens host function {@code bdfOrPath} in this context: its group (shared with the context's other functions of
     * that group) or its cdev, the device fd, the hypervisor registration, and, when {@code needsDma}, the DMA
     * mapping of guest RAM (made once for all devices; the whole layout is checked against the IOMMU's usable IOVA
     * ranges first). On failure, everything this call took is released again.
     *
     * @throws GroupNotViableException when the function's group has a device bound to another driver (named)
     * @throws VfioException when the function is already open in this context, or the context is closed
     */
    public Member open(String bdfOrPath, boolean needsDma) {
        String name = vfio.sysfs().deviceName(bdfOrPath);
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("VFIO context is closed; can't open " + name);
            }
            for (Member m : members) {
                if (m.name.equals(name)) {
                    throw new VfioException(name + ": already attached to this VM");
                }
            }
            openIommuContext();
            Member m = backend == VfioBackend.IOMMUFD_CDEV ? openCdev(bdfOrPath, name) : openInGroup(bdfOrPath, name);
            try {
                if (needsDma) {
                    useGuestRam(m);
                }
            } catch (RuntimeException | Error e) {
                Closer c = new Closer();
                c.add(e); // what the release throws is suppressed into the failure
                c.run(() -> release(m));
                throw e;
            }
            members.add(m);
            return m;
        }
    }

    /** The container, or the iommufd with its IOAS, on first use. */
    private void openIommuContext() {
        if (backend == VfioBackend.LEGACY_CONTAINER) {
            if (container == null) {
                container = VfioContainer.open(vfio.syscalls());
            }
            return;
        }
        if (iommufd == null) {
            Iommufd fd = Iommufd.open(vfio.syscalls());
            try {
                ioas = fd.allocateIoas();
            } catch (RuntimeException | Error e) {
                Closer.closeAfter(e, fd);
                throw e;
            }
            iommufd = fd;
        }
    }

    private Member openInGroup(String bdfOrPath, String name) {
        int id = vfio.sysfs().iommuGroupOf(bdfOrPath);
        OpenGroup g = groups.get(id);
        boolean opened = false;
        if (g == null) {
            g = openGroup(id);
            opened = true;
        }
        try {
            VfioDevice device = g.group.openDevice(name);
            g.users++;
            return new Member(this, name, device, g, null, 0);
        } catch (RuntimeException | Error e) {
            if (opened) {
                Closer c = new Closer();
                c.add(e); // what the release throws is suppressed into the failure
                c.run(() -> closeGroup(id));
            }
            throw e;
        }
    }

    private OpenGroup openGroup(int id) {
        VfioGroup group = vfio.openGroup(id);
        VfioGroupRegistrar.Registration reg = null;
        try {
            container.attach(group); // checks viability: the error names each device not bound to vfio-pci
            container.setIommu(); // type1 v2 preferred; set by the first group, shared by the rest
            if (ram != null) {
                container.iommu().invalidate(); // a new group can narrow the usable IOVA ranges
            }
            if (registrar.isPresent()) {
                reg = registrar.get().addGroup(group.descriptor().fd(), "vfio group " + id);
            }
            OpenGroup g = new OpenGroup(group, reg);
            groups.put(id, g);
            return g;
        } catch (RuntimeException | Error e) {
            Closer.closeAfter(e, reg, group);
            throw e;
        }
    }

    private Member openCdev(String bdfOrPath, String name) {
        String cdev = VfioCdev.nameOf(vfio.sysfs(), bdfOrPath).orElseThrow(() -> new VfioException(name
                + ": no VFIO cdev (no vfio-dev/ in its sysfs directory): the kernel lacks CONFIG_VFIO_DEVICE_CDEV, or "
                + "the device isn't bound to vfio-pci"));
        if (cdev.startsWith(VfioCdev.NOIOMMU_PREFIX)) {
            throw new VfioException(name + ": its VFIO cdev " + cdev + " has no IOMMU behind it (the kernel's unsafe "
                    + "no-IOMMU mode); DMA would reach all of host memory. Refused");
        }
        // The kernel refuses the bind when another device of the group is owned by a host driver; say which.
        int group = vfio.sysfs().iommuGroupOf(bdfOrPath);
        List<String> offenders = VfioGroup.offenders(vfio.sysfs(), group);
        if (!offenders.isEmpty()) {
            throw new GroupNotViableException(group, offenders);
        }
        FileDescriptor fd = FileDescriptor.open(vfio.syscalls(), VfioCdev.path(cdev), Linux.O_RDWR);
        VfioGroupRegistrar.Registration reg = null;
        try {
            int devId = VfioCdev.bind(fd, iommufd.descriptor().fd());
            VfioCdev.attach(fd, ioas.id());
            ioas.invalidate(); // the attach cut the device's reserved regions (the MSI window) out of the IOAS
            if (registrar.isPresent()) {
                reg = registrar.get().addGroup(fd.fd(), "vfio cdev " + cdev + " (" + name + ")");
            }
            return new Member(this, name, VfioDevice.ofCdev(fd, name), null, reg, devId);
        } catch (RuntimeException | Error e) {
            Closer.closeAfter(e, reg, fd);
            throw e;
        }
    }

    private void useGuestRam(Member m) {
        if (ram == null) {
            GuestRamDma r = new GuestRamDma("VFIO context (" + m.name + ")", currentMapper());
            r.mapAll(memory);
            ram = r;
        }
        ramUsers++;
        m.usesRam = true;
    }

    private DmaMapper currentMapper() {
        return backend == VfioBackend.IOMMUFD_CDEV ? ioas : container == null ? null : container.iommu();
    }

    /** Undoes {@link #open} for {@code m}: last DMA user unmaps guest RAM, last user of a group closes it. */
    private synchronized void release(Member m) {
        members.remove(m);
        Closer c = new Closer();
        if (m.usesRam) {
            m.usesRam = false;
            if (--ramUsers == 0 && ram != null) {
                GuestRamDma r = ram;
                ram = null;
                c.close(r);
            }
        }
        c.close(m.registration);
        c.close(m.device);
        if (m.group != null) {
            int id = m.group.group.id();
            if (--m.group.users == 0) {
                c.run(() -> closeGroup(id));
            }
        }
        c.rethrow();
    }

    private void closeGroup(int id) {
        OpenGroup g = groups.remove(id);
        if (g != null) {
            Closer c = new Closer();
            c.close(g.registration);
            c.close(g.group); // detaches it; the last group takes the container's IOMMU with it
            c.rethrow();
        }
    }

    /** The functions open in this context, in the order they were opened. */
    public synchronized List<Member> members() {
        return List.copyOf(members);
    }

    /** The open function with this name (a BDF, short or full, or a sysfs path), if any. */
    public Optional<Member> member(String bdfOrPath) {
        String name = vfio.sysfs().deviceName(bdfOrPath);
        synchronized (this) {
            return members.stream().filter(m -> m.name.equals(name)).findFirst();
        }
    }

    /** The IOMMU group ids this context has open (legacy backend; empty with iommufd). */
    public synchronized Set<Integer> groupIds() {
        return Set.copyOf(groups.keySet());
    }

    /** Bytes of guest RAM DMA-mapped now (one copy however many devices use it). */
    public synchronized long guestRamMappedBytes() {
        return ram == null ? 0 : ram.mappedBytes();
    }

    /** The DMA mapper in use now: the container's type1 IOMMU (while a group is open) or the IOAS; may be null. */
    public synchronized DmaMapper dmaMapper() {
        return currentMapper();
    }

    /**
     * The type1 IOMMU's current {@code DMA_AVAIL} (how many more DMA mappings the kernel allows), when the legacy
     * backend has a group open and the kernel reports it; empty otherwise (iommufd has no such counter).
     */
    public synchronized OptionalLong dmaAvailable() {
        if (backend != VfioBackend.LEGACY_CONTAINER || container == null || container.iommu() == null) {
            return OptionalLong.empty();
        }
        Type1Iommu iommu = container.iommu();
        iommu.invalidate();
        return iommu.info().dmaAvailable();
    }

    /**
     * Resets {@code m}'s function with the best method it has: {@code VFIO_DEVICE_RESET} when the kernel offers one,
     * else a PCI hot reset when this context owns every device the reset affects (see {@link #hotReset(Member)}),
     * else nothing. {@code m} and every other device the reset covers are suspended and restored around it (their
     * {@link ResetHooks}).
     *
     * @return the method used; {@link ResetMethod#NONE} when neither was possible (logged, naming what blocked it)
     */
    public ResetMethod reset(Member m) {
        requireMine(m);
        resetLock.lock();
        try {
            return bestReset(m, true);
        } finally {
            resetLock.unlock();
        }
    }

    /**
     * {@link #reset(Member)} for a reset the guest asked for (a function level reset written to config space), run
     * by the device with its own lock held and itself already suspended: only the other devices a hot reset covers
     * get their hooks. It never waits for another reset of this VM (that would invert the lock order, reset lock
     * before device lock): when one is running, this one is skipped and {@link ResetMethod#NONE} returned.
     */
    public ResetMethod resetForGuest(Member m) {
        requireMine(m);
        if (m.device.info().resettable()) {
            return functionReset(m, false); // affects no other device: no reset lock needed
        }
        if (!resetLock.tryLock()) {
            LOG.info("{}: guest-initiated reset skipped: another reset of this VM is running", m.name);
            return ResetMethod.NONE;
        }
        try {
            return bestReset(m, false);
        } finally {
            resetLock.unlock();
        }
    }

    private ResetMethod bestReset(Member m, boolean hooksOfM) {
        if (m.device.info().resettable()) {
            return functionReset(m, hooksOfM);
        }
        try {
            hotResetLocked(m, hooksOfM);
            return ResetMethod.HOT_RESET;
        } catch (HotResetRefusedException e) {
            LOG.info("{}: no VFIO_DEVICE_RESET, and {}; not reset", m.name, e.getMessage());
            return ResetMethod.NONE;
        } catch (SyscallException e) {
            LOG.info("{}: no VFIO_DEVICE_RESET and no PCI hot reset ({}); not reset", m.name, e.getMessage());
            return ResetMethod.NONE;
        }
    }

    private ResetMethod functionReset(Member m, boolean hooksOfM) {
        runAround(hooksOfM ? List.of(m) : List.of(), 0, m.device::reset);
        LOG.info("{}: reset with VFIO_DEVICE_RESET", m.name);
        return ResetMethod.DEVICE_RESET;
    }

    /**
     * A PCI hot reset (secondary bus or slot reset) of {@code m}'s function and every other function the kernel says
     * it affects. Each affected function open in this context is suspended before and restored after (its reset
     * hooks), {@code m} included.
     *
     * @return the functions of this context the reset covered, {@code m} first
     * @throws HotResetRefusedException before the ioctl when the reset affects a group (legacy) or device (cdev)
     *     this context does not own, naming it
     * @throws SyscallException when the kernel can't hot reset the function ({@code ENODEV}: no bus or slot reset)
     */
    public List<Member> hotReset(Member m) {
        requireMine(m);
        resetLock.lock();
        try {
            return hotResetLocked(m, true);
        } finally {
            resetLock.unlock();
        }
    }

    private List<Member> hotResetLocked(Member m, boolean hooksOfM) {
        FileDescriptor fd = m.device.descriptor();
        HotResetInfo info = PciHotReset.query(fd);
        Map<Integer, FileDescriptor> owned = new LinkedHashMap<>();
        List<Member> affected = new ArrayList<>();
        affected.add(m);
        synchronized (this) {
            if (m.group != null) {
                PciHotReset.requireOwned(m.name, info, groups.keySet());
                for (int id : info.groupIds()) {
                    owned.put(id, groups.get(id).group.descriptor());
                }
            } else if (!CdevHotReset.allOwned(info)) {
                List<String> blockers = new ArrayList<>();
                for (DependentDevice d : CdevHotReset.notOwned(info)) {
                    blockers.add(d.bdf());
                }
                throw new HotResetRefusedException(m.name + ": PCI hot reset refused: it also resets " + blockers
                        + ", which this VM's iommufd does not own", Set.of());
            }
            Set<String> bdfs = new TreeSet<>();
            for (DependentDevice d : info.devices()) {
                bdfs.add(d.bdf());
            }
            for (Member other : members) {
                if (other != m && bdfs.contains(other.name)) {
                    affected.add(other);
                }
            }
        }
        runAround(hooksOfM ? affected : affected.subList(1, affected.size()), 0, () -> {
            if (m.group != null) {
                PciHotReset.reset(fd, info, owned);
            } else {
                CdevHotReset.reset(fd);
            }
        });
        LOG.info("{}: reset with a PCI hot reset, also covering {}", m.name, affected.subList(1, affected.size()));
        return List.copyOf(affected);
    }

    /**
     * Runs {@code reset} inside the hooks of {@code members} from index {@code i} on, nested in member order: each
     * device holds its own lock from before its suspend to after its restore. Always under the reset lock, so the
     * order of device locks is the same for every reset.
     */
    private static void runAround(List<Member> hooked, int i, Runnable reset) {
        if (i == hooked.size()) {
            reset.run();
        } else {
            hooked.get(i).aroundReset(() -> runAround(hooked, i + 1, reset));
        }
    }

    /**
     * A system reset: resets every function of this context with the best method it has, running one hot reset for
     * all the functions it covers (functions sharing a bus are not reset twice). Each function is suspended and
     * restored around its reset.
     *
     * @return the method used for each function, by name, in the order they were opened
     */
    public Map<String, ResetMethod> resetAll() {
        Map<String, ResetMethod> done = new LinkedHashMap<>();
        resetLock.lock();
        try {
            for (Member m : members()) {
                if (done.containsKey(m.name)) {
                    continue;
                }
                if (m.device.info().resettable()) {
                    done.put(m.name, functionReset(m, true));
                    continue;
                }
                try {
                    for (Member covered : hotResetLocked(m, true)) {
                        done.put(covered.name, ResetMethod.HOT_RESET);
                    }
                } catch (HotResetRefusedException | SyscallException e) {
                    LOG.info("{}: system reset left it as it was: {}", m.name, e.getMessage());
                    done.put(m.name, ResetMethod.NONE);
                }
            }
        } finally {
            resetLock.unlock();
        }
        return done;
    }

    private void requireMine(Member m) {
        if (m.context != this || m.closed) {
            throw new IllegalArgumentException(m + " is not open in this VFIO context");
        }
    }

    /** True once closed. */
    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Detaches the devices still attached through this context (newest first), then releases the DMA mapping, the
     * groups or the IOAS, the container or iommufd, and the event loop if the context started it. Idempotent.
     */
    @Override
    public void close() {
        List<Member> left;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            left = new ArrayList<>(members);
        }
        Closer c = new Closer();
        for (int i = left.size() - 1; i >= 0; i--) {
            c.close(left.get(i));
        }
        synchronized (this) {
            if (ram != null) {
                c.close(ram);
                ram = null;
            }
            for (Integer id : new ArrayList<>(groups.keySet())) {
                c.run(() -> closeGroup(id));
            }
        }
        synchronized (this) {
            c.close(ioas);
            c.close(iommufd);
            c.close(container);
        }
        if (ownsLoop) {
            c.close(loop);
        }
        c.rethrow();
    }

    @Override
    public synchronized String toString() {
        return "VFIO context (" + backend + ", " + members.size() + " devices, groups " + groups.keySet() + ")"
                + (closed ? " closed" : "");
    }

    /** A group opened by this context and how many of its open functions use it. */
    private static final class OpenGroup {
        final VfioGroup group;
        final VfioGroupRegistrar.Registration registration;
        int users;

        OpenGroup(VfioGroup group, VfioGroupRegistrar.Registration registration) {
            this.group = group;
            this.registration = registration;
        }
    }

    /**
     * What a device does around a reset the context runs for it (its own, a hot reset that covers it, a system
     * reset): take its own lock, stop its interrupts, run the reset, restore its virtualized state and interrupts.
     */
    public interface ResetHooks {
        /** Runs {@code reset} (which may throw) with the device suspended, restoring it afterwards in any case. */
        void aroundReset(Runnable reset);

        /** The context is closing with the device still attached: detach it. */
        void detach();
    }

    /**
     * One function open in a {@link VfioContext}: its device fd and what the context holds for it. Closing it (the
     * device's detach does) gives those back; the group and the DMA mapping stay while other functions use them.
     */
    public static final class Member implements AutoCloseable {
        private final VfioContext context;
        private final String name;
        private final VfioDevice device;
        private final OpenGroup group;
        private final VfioGroupRegistrar.Registration registration;
        private final int devId;
        private volatile ResetHooks hooks;
        private boolean usesRam;
        private boolean closed;

        private Member(VfioContext context, String name, VfioDevice device, OpenGroup group,
                VfioGroupRegistrar.Registration registration, int devId) {
            this.context = context;
            this.name = name;
            this.device = device;
            this.group = group;
            this.registration = registration;
            this.devId = devId;
        }

        /** The function's name (its BDF). */
        public String name() {
            return name;
        }

        /** The device fd and its regions, IRQs and info. */
        public VfioDevice device() {
            return device;
        }

        /** The IOMMU group id (legacy backend); empty with a cdev. */
        public OptionalInt groupId() {
            return group == null ? OptionalInt.empty() : OptionalInt.of(group.group.id());
        }

        /** The device id within the context's iommufd (cdev backend); empty with the legacy backend. */
        public OptionalInt iommufdDeviceId() {
            return group == null ? OptionalInt.of(devId) : OptionalInt.empty();
        }

        /** The context. */
        public VfioContext context() {
            return context;
        }

        /** Sets what the device does around resets the context runs; the device calls it once, during attach. */
        public void resetHooks(ResetHooks hooks) {
            this.hooks = hooks;
        }

        void aroundReset(Runnable reset) {
            ResetHooks h = hooks;
            if (h != null) {
                h.aroundReset(reset);
            } else {
                reset.run();
            }
        }

        /**
         * Gives back what the context holds for this function (device fd, hypervisor registration, its share of
         * the group and the guest-RAM DMA mapping). When the context is closing, the device is detached first
         * through its hooks. Idempotent.
         */
        @Override
        public void close() {
            ResetHooks h;
            synchronized (context) {
                if (closed) {
                    return;
                }
                h = hooks;
            }
            if (h != null && context.isClosed()) {
                hooks = null;
                h.detach(); // the device's detach closes this member again, which then releases below
            }
            synchronized (context) {
                if (closed) {
                    return;
                }
                closed = true;
                context.release(this);
            }
        }

        @Override
        public String toString() {
            return name + (group != null ? " (group " + group.group.id() + ")" : " (cdev, dev id " + devId + ")");
        }
    }
}
