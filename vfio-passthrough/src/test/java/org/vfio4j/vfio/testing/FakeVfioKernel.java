package org.vfio4j.vfio.testing;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * A fake Linux VFIO kernel behind the {@link Syscalls} seam, for what the real kernel can't be made to produce here
 * (there is no /dev/vfio on the build host): devices we don't have, malformed capability chains, ENOSPC loops, EIO.
 * It answers the container, group and device ioctls as {@code drivers/vfio} and {@code vfio_iommu_type1} do: the
 * same minimum argsz checks, the same errnos, the same bytes written back (only {@code minsz} of the fixed struct, the
 * chain after {@code sizeof} the struct only when argsz is large enough, the needed argsz otherwise).
 *
 * <p>Eventfds, reads, writes and polls on fds the fake didn't create go to the real kernel, so IRQ tests use real
 * eventfds: when an IRQ "fires" the fake writes to the eventfd the library assigned.
 */
public final class FakeVfioKernel implements Syscalls {
    /** Fds the fake hands out start here, well above any real fd of the test JVM. */
    public static final int FD_BASE = 1 << 20;

    private final Syscalls real = Syscalls.linux();
    private final Map<Integer, Object> fds = new HashMap<>();
    private final TreeMap<Integer, Group> groups = new TreeMap<>();
    private final Map<Long, Mmap> mmaps = new HashMap<>();
    private final List<String> ioctlLog = new ArrayList<>();
    private final Map<String, Integer> ioeventfds = new java.util.LinkedHashMap<>();
    private int nextFd = FD_BASE;

    // type1 configuration shared by every container
    private final Set<Integer> extensions = new HashSet<>(Set.of(VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU));
    private long iovaPgsizes = 0x40201000L; // 4K | 2M | 1G
    private List<IovaRange> iovaRanges = List.of(new IovaRange(0, 0xfedfffffL),
            new IovaRange(0xfef00000L, 0x7fffffffffL));
    private int dmaAvailInitial = 65535;
    private boolean migrationCap = true;
    private boolean alignCaps8;
    private int droppedDmaMappings;
    private int closedFdCalls;
    private final List<Throwable> closedFdCallSites = new ArrayList<>();

    private static final class Group {
        final int id;
        boolean viable = true;
        boolean noIommu;
        final Map<String, FakeVfioDevice> devices = new LinkedHashMap<>();
        Container container;
        int openDevices;
        boolean open;

        Group(int id) {
            this.id = id;
        }
    }

    private static final class Container {
        final List<Group> groups = new ArrayList<>();
        int iommuType;
        int dmaAvail;
        final TreeMap<Long, long[]> dma = new TreeMap<>(Long::compareUnsigned); // iova -> {size, vaddr, flags}
    }

    private record GroupHandle(Group group) {
    }

    private record DeviceHandle(Group group, FakeVfioDevice device) {
    }

    private record Mmap(Pointer memory, FakeRegion region, long offset, long length) {
    }

    // ------------------------------------------------------------------ configuration

    /** Adds device {@code device} to IOMMU group {@code groupId} (creating the group, viable). */
    public FakeVfioKernel addDevice(int groupId, FakeVfioDevice device) {
        groups.computeIfAbsent(groupId, Group::new).devices.put(device.name(), device);
        return this;
    }

    /**
     * Makes group {@code groupId} a no-IOMMU group ({@code /dev/vfio/noiommu-N} instead of {@code /dev/vfio/N}) and
     * offers {@code VFIO_NOIOMMU_IOMMU}, as the kernel does with {@code vfio.enable_unsafe_noiommu_mode=1}.
     */
    public FakeVfioKernel noIommuGroup(int groupId) {
        groups.computeIfAbsent(groupId, Group::new).noIommu = true;
        extensions.add(VFIO_NOIOMMU_IOMMU);
        return this;
    }

    /** Marks group {@code groupId} (not) viable, as if a device in it were bound to a host driver. */
    public FakeVfioKernel viable(int groupId, boolean viable) {
        groups.computeIfAbsent(groupId, Group::new).viable = viable;
        return this;
    }

    /** The extensions VFIO_CHECK_EXTENSION reports (default TYPE1 and TYPE1v2). */
    public FakeVfioKernel extensions(Integer... ids) {
        extensions.clear();
        extensions.addAll(Arrays.asList(ids));
        return this;
    }

    /** The valid IOVA ranges type1 reports (default: below and above the x86 MSI window, 39 bits). */
    public FakeVfioKernel iovaRanges(IovaRange... ranges) {
        iovaRanges = List.of(ranges);
        return this;
    }

    /** The page size bitmap type1 reports. */
    public FakeVfioKernel iovaPageSizes(long bitmap) {
        iovaPgsizes = bitmap;
        return this;
    }

    /** How many DMA mappings a container allows (type1's dma_entry_limit). */
    public FakeVfioKernel dmaEntryLimit(int limit) {
        dmaAvailInitial = limit;
        return this;
    }

    /** Whether the migration capability is reported (default true). */
    public FakeVfioKernel migrationCapability(boolean on) {
        migrationCap = on;
        return this;
    }

    /** Pads every capability to 8 bytes, as kernels after 6.1 do (default: unpadded, as 6.1). */
    public FakeVfioKernel alignCapabilities(boolean on) {
        alignCaps8 = on;
        return this;
    }

    // ------------------------------------------------------------------ observation

    /** The names of the ioctls issued so far, in order. */
    public List<String> ioctlLog() {
        return List.copyOf(ioctlLog);
    }

    /** How many times {@code ioctl} was issued. */
    public long ioctlCount(String ioctl) {
        return ioctlLog.stream().filter(ioctl::equals).count();
    }

    /** Fds the fake handed out that are still open. */
    public int openFakeFds() {
        return fds.size();
    }

    /** Calls that named a fake fd number no longer (or never) open: a library bug (use after close). */
    public synchronized int closedFdCalls() {
        return closedFdCalls;
    }

    private int badFd(int errno) {
        closedFdCalls++;
        if (closedFdCallSites.size() < 4) {
            closedFdCallSites.add(new Throwable("call on a closed fd, on " + Thread.currentThread().getName()));
        }
        return -errno;
    }

    /** Where the first few calls on a closed fd came from, for the failure message. */
    public synchronized String closedFdCallSites() {
        StringWriter w = new StringWriter();
        for (Throwable t : closedFdCallSites) {
            t.printStackTrace(new PrintWriter(w));
        }
        return w.toString();
    }

    /** Fake mmaps not yet unmapped. */
    public int liveMmaps() {
        return mmaps.size();
    }

    /** DMA mappings live in all containers. */
    public int liveDmaMappings() {
        int n = 0;
        Set<Container> seen = new HashSet<>();
        for (Object h : fds.values()) {
            if (h instanceof Container c && seen.add(c)) {
                n += c.dma.size();
            }
        }
        for (Group g : groups.values()) {
            if (g.container != null && seen.add(g.container)) {
                n += g.container.dma.size();
            }
        }
        return n;
    }

    /**
     * DMA mappings the fake kernel had to drop itself because the last group left or the container closed with
     * mappings live: a library that unmaps what it mapped keeps this at 0.
     */
    public int droppedDmaMappings() {
        return droppedDmaMappings;
    }

    // ------------------------------------------------------------------ Syscalls

    private int newFd(Object handle) {
        int fd = nextFd++;
        fds.put(fd, handle);
        return fd;
    }

    @Override
    public synchronized int open(String path, int flags) {
        if (path.equals("/dev/vfio/vfio")) {
            return newFd(new Container());
        }
        if (path.startsWith("/dev/vfio/")) {
            // A no-IOMMU group's node is /dev/vfio/noiommu-N (vfio_group_alloc names it so); /dev/vfio/N is not it.
            String rest = path.substring("/dev/vfio/".length());
            boolean noIommuNode = rest.startsWith("noiommu-");
            int id;
            try {
                id = Integer.parseInt(noIommuNode ? rest.substring("noiommu-".length()) : rest);
            } catch (NumberFormatException e) {
                return -Errno.ENOENT;
            }
            Group g = groups.get(id);
            if (g == null || g.noIommu != noIommuNode) {
                return -Errno.ENOENT;
            }
            if (g.open) {
                return -Errno.EBUSY; // a group can be opened once
            }
            g.open = true;
            return newFd(new GroupHandle(g));
        }
        return real.open(path, flags);
    }

    @Override
    public synchronized int close(int fd) {
        Object h = fds.remove(fd);
        if (h == null) {
            return fd >= FD_BASE ? badFd(Errno.EBADF) : real.close(fd);
        }
        if (h instanceof Container c) {
            for (Group g : new ArrayList<>(c.groups)) {
                detach(g);
            }
        } else if (h instanceof GroupHandle gh) {
            Group g = gh.group();
            if (g.container != null && g.openDevices == 0) {
                detach(g);
            }
            g.open = false;
        } else if (h instanceof DeviceHandle dh) {
            dh.group().openDevices--;
            FakeVfioDevice d = dh.device();
            d.triggers.clear(); // release disables every IRQ
            d.enabledVectors.clear();
            d.unmaskFds.clear();
        }
        return 0;
    }

    private void detach(Group g) {
        Container c = g.container;
        c.groups.remove(g);
        g.container = null;
        if (c.groups.isEmpty()) {
            droppedDmaMappings += c.dma.size();
            c.dma.clear();
            c.iommuType = 0;
        }
    }

    @Override
    public synchronized int ioctl(int fd, long request, Pointer arg) {
        return dispatch(fd, request, arg, 0);
    }

    @Override
    public synchronized int ioctl(int fd, long request, long arg) {
        return dispatch(fd, request, null, arg);
    }

    private int dispatch(int fd, long request, Pointer p, long value) {
        Object h = fds.get(fd);
        if (h == null) {
            return fd >= FD_BASE ? badFd(Errno.EBADF) : (p != null ? real.ioctl(fd, request, p) : real.ioctl(fd, request,
                    value));
        }
        if (h instanceof Container c) {
            return containerIoctl(c, request, p, value);
        }
        if (h instanceof GroupHandle g) {
            return groupIoctl(g.group(), request, p);
        }
        DeviceHandle d = (DeviceHandle) h;
        return deviceIoctl(d.device(), request, p);
    }

    private boolean is(long request, org.vfio4j.core.sys.Ioctl ioctl) {
        if (request == ioctl.number()) {
            ioctlLog.add(ioctl.name());
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ container

    private int containerIoctl(Container c, long req, Pointer p, long value) {
        if (is(req, VfioIoctls.VFIO_GET_API_VERSION)) {
            return VFIO_API_VERSION;
        }
        if (is(req, VfioIoctls.VFIO_CHECK_EXTENSION)) {
            return extensions.contains((int) value) ? 1 : 0;
        }
        if (is(req, VfioIoctls.VFIO_SET_IOMMU)) {
            if (c.groups.isEmpty() || c.iommuType != 0) {
                return -Errno.EINVAL;
            }
            // vfio_ioctl_set_iommu: the no-IOMMU driver takes only no-IOMMU groups, and those take only it.
            boolean noIommuGroups = c.groups.stream().allMatch(g -> g.noIommu);
            if (value == VFIO_NOIOMMU_IOMMU) {
                if (!extensions.contains(VFIO_NOIOMMU_IOMMU) || !noIommuGroups) {
                    return -Errno.ENODEV;
                }
                c.iommuType = VFIO_NOIOMMU_IOMMU;
                return 0;
            }
            if (c.groups.stream().anyMatch(g -> g.noIommu)) {
                return -Errno.ENODEV;
            }
            if (!extensions.contains((int) value)
                    || (value != VFIO_TYPE1_IOMMU && value != VFIO_TYPE1v2_IOMMU)) {
                return -Errno.ENODEV;
            }
            c.iommuType = (int) value;
            c.dmaAvail = dmaAvailInitial;
            return 0;
        }
        if (c.iommuType == 0) {
            return -Errno.EINVAL; // no IOMMU driver: every other container ioctl fails
        }
        if (c.iommuType == VFIO_NOIOMMU_IOMMU) {
            return -Errno.ENOTTY; // vfio_noiommu_ioctl answers only CHECK_EXTENSION
        }
        if (is(req, VfioIoctls.VFIO_IOMMU_GET_INFO)) {
            return iommuInfo(c, p);
        }
        if (is(req, VfioIoctls.VFIO_IOMMU_MAP_DMA)) {
            return mapDma(c, p);
        }
        if (is(req, VfioIoctls.VFIO_IOMMU_UNMAP_DMA)) {
            return unmapDma(c, p);
        }
        return -Errno.ENOTTY;
    }

    private int iommuInfo(Container c, Pointer p) {
        int minsz = VfioLayouts.Type1Info.CAP_OFFSET + 4; // offsetofend(cap_offset)
        int argsz = p.getInt(0);
        if (argsz < minsz) {
            return -Errno.EINVAL;
        }
        List<FakeCapability> caps = new ArrayList<>();
        if (migrationCap) {
            ByteBuffer b = le(24);
            b.putInt(0).putInt(0).putLong(iovaPgsizes).putLong(256L << 20);
            caps.add(new FakeCapability(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, 1, b.array()));
        }
        ByteBuffer avail = le(4);
        avail.putInt(c.dmaAvail);
        caps.add(new FakeCapability(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1, avail.array()));
        ByteBuffer iova = le(8 + 16 * iovaRanges.size());
        iova.putInt(iovaRanges.size()).putInt(0);
        for (IovaRange r : iovaRanges) {
            iova.putLong(r.start()).putLong(r.end());
        }
        caps.add(new FakeCapability(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1, iova.array()));
        ByteBuffer info = le(VfioLayouts.Type1Info.SIZE);
        info.putInt(0, argsz);
        info.putInt(4, VFIO_IOMMU_INFO_PGSIZES);
        info.putLong(8, iovaPgsizes);
        writeWithCaps(p, info, argsz, minsz, VfioLayouts.Type1Info.SIZE, VfioLayouts.Type1Info.FLAGS,
                VFIO_IOMMU_INFO_CAPS, VfioLayouts.Type1Info.CAP_OFFSET, caps);
        return 0;
    }

    /** The kernel's INFO answer: flags |= CAPS; the chain when argsz fits it, else the needed argsz; minsz copied. */
    private void writeWithCaps(Pointer p, ByteBuffer info, int argsz, int minsz, int structSize, int flagsAt,
            int capsFlag, int capOffsetAt, List<FakeCapability> caps) {
        if (!caps.isEmpty()) {
            byte[] chain = CapChainBuilder.build(caps, structSize, alignCaps8);
            info.putInt(flagsAt, info.getInt(flagsAt) | capsFlag);
            if (argsz < structSize + chain.length) {
                info.putInt(0, structSize + chain.length);
                info.putInt(capOffsetAt, 0);
            } else {
                p.write(structSize, chain, 0, chain.length);
                info.putInt(capOffsetAt, structSize);
            }
        }
        p.write(0, info.array(), 0, minsz);
    }

    private int mapDma(Container c, Pointer p) {
        int minsz = VfioLayouts.DmaMap.SIZE;
        int argsz = p.getInt(0);
        int flags = p.getInt(4);
        long vaddr = p.getLong(8);
        long iova = p.getLong(16);
        long size = p.getLong(24);
        long pgmask = Long.lowestOneBit(iovaPgsizes) - 1;
        if (argsz < minsz || (flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) != 0) {
            return -Errno.EINVAL;
        }
        if (flags == 0 || size == 0 || ((size | iova | vaddr) & pgmask) != 0) {
            return -Errno.EINVAL;
        }
        if (Long.compareUnsigned(iova + size - 1, iova) < 0) {
            return -Errno.EINVAL;
        }
        IovaRange want = IovaRange.ofSize(iova, size);
        if (iovaRanges.stream().noneMatch(r -> r.contains(want))) {
            return -Errno.EINVAL;
        }
        for (Map.Entry<Long, long[]> e : c.dma.entrySet()) {
            if (IovaRange.ofSize(e.getKey(), e.getValue()[0]).overlaps(want)) {
                return -Errno.EEXIST;
            }
        }
        if (c.dmaAvail == 0) {
            return -Errno.ENOSPC;
        }
        c.dmaAvail--;
        c.dma.put(iova, new long[] {size, vaddr, flags});
        return 0;
    }

    private int unmapDma(Container c, Pointer p) {
        int minsz = VfioLayouts.DmaUnmap.SIZE;
        int argsz = p.getInt(0);
        int flags = p.getInt(4);
        long iova = p.getLong(8);
        long size = p.getLong(16);
        long pgmask = Long.lowestOneBit(iovaPgsizes) - 1;
        if (argsz < minsz || flags != 0 || size == 0 || ((iova | size) & pgmask) != 0
                || Long.compareUnsigned(iova + size - 1, iova) < 0) {
            return -Errno.EINVAL;
        }
        IovaRange range = IovaRange.ofSize(iova, size);
        List<Long> victims = new ArrayList<>();
        for (Map.Entry<Long, long[]> e : c.dma.entrySet()) {
            IovaRange m = IovaRange.ofSize(e.getKey(), e.getValue()[0]);
            if (m.overlaps(range)) {
                if (c.iommuType == VFIO_TYPE1v2_IOMMU && !range.contains(m)) {
                    return -Errno.EINVAL; // v2 refuses to bisect a mapping
                }
                victims.add(e.getKey());
            }
        }
        long unmapped = 0;
        for (long v : victims) {
            unmapped += c.dma.remove(v)[0];
            c.dmaAvail++;
        }
        p.setLong(16, unmapped);
        return 0;
    }

    // ------------------------------------------------------------------ group

    private int groupIoctl(Group g, long req, Pointer p) {
        if (is(req, VfioIoctls.VFIO_GROUP_GET_STATUS)) {
            if (p.getInt(0) < VfioLayouts.GroupStatus.SIZE) {
                return -Errno.EINVAL;
            }
            p.setInt(4, (g.viable ? VFIO_GROUP_FLAGS_VIABLE : 0)
                    | (g.container != null ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0));
            return 0;
        }
        if (is(req, VfioIoctls.VFIO_GROUP_SET_CONTAINER)) {
            if (g.container != null) {
                return -Errno.EINVAL;
            }
            Object h = fds.get(p.getInt(0));
            if (!(h instanceof Container c)) {
                return -Errno.EBADF;
            }
            if (!g.viable) {
                return -Errno.EPERM;
            }
            g.container = c;
            c.groups.add(g);
            return 0;
        }
        if (is(req, VfioIoctls.VFIO_GROUP_UNSET_CONTAINER)) {
            if (g.container == null) {
                return -Errno.EINVAL;
            }
            if (g.openDevices > 0) {
                return -Errno.EBUSY;
            }
            detach(g);
            return 0;
        }
        if (is(req, VfioIoctls.VFIO_GROUP_GET_DEVICE_FD)) {
            if (g.container == null || g.container.iommuType == 0) {
                return -Errno.EINVAL;
            }
            if (!g.viable) {
                return -Errno.EPERM;
            }
            String name = p.getString(0, "US-ASCII");
            FakeVfioDevice d = g.devices.get(name);
            if (d == null) {
                return -Errno.ENODEV;
            }
            g.openDevices++;
            return newFd(new DeviceHandle(g, d));
        }
        return -Errno.ENOTTY;
    }

    // ------------------------------------------------------------------ device

    private int deviceIoctl(FakeVfioDevice d, long req, Pointer p) {
        if (is(req, VfioIoctls.VFIO_DEVICE_GET_INFO)) {
            int minsz = VfioLayouts.DeviceInfo.NUM_IRQS + 4;
            int argsz = p.getInt(0);
            if (argsz < minsz) {
                return -Errno.EINVAL;
            }
            ByteBuffer info = le(VfioLayouts.DeviceInfo.SIZE);
            info.putInt(0, argsz);
            info.putInt(4, d.flags & ~VFIO_DEVICE_FLAGS_CAPS);
            info.putInt(8, d.numRegions());
            info.putInt(12, d.numIrqs());
            if (argsz >= VfioLayouts.DeviceInfo.SIZE) {
                writeWithCaps(p, info, argsz, VfioLayouts.DeviceInfo.SIZE, VfioLayouts.DeviceInfo.SIZE, 4,
                        VFIO_DEVICE_FLAGS_CAPS, VfioLayouts.DeviceInfo.CAP_OFFSET, d.deviceCaps);
            } else {
                p.write(0, info.array(), 0, minsz);
            }
            return 0;
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_GET_REGION_INFO)) {
            return regionInfo(d, p);
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_GET_IRQ_INFO)) {
            if (p.getInt(0) < VfioLayouts.IrqInfo.SIZE) {
                return -Errno.EINVAL;
            }
            int index = p.getInt(8);
            if (index < 0 || index >= d.numIrqs()) {
                return -Errno.EINVAL;
            }
            if (index == VFIO_PCI_ERR_IRQ_INDEX && !d.irqs.containsKey(index)) {
                // vfio-pci offers the ERR index only on PCI Express devices; conventional ones get EINVAL.
                return -Errno.EINVAL;
            }
            int[] irq = d.irqs.getOrDefault(index, new int[] {0, 0});
            p.setInt(4, irq[0]);
            p.setInt(12, irq[1]);
            return 0;
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_SET_IRQS)) {
            return setIrqs(d, p);
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_RESET)) {
            if ((d.flags & VFIO_DEVICE_FLAGS_RESET) == 0) {
                return -Errno.EINVAL;
            }
            d.resets++;
            return 0;
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO)) {
            return hotResetInfo(d, p);
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_IOEVENTFD)) {
            return ioeventfd(d, p);
        }
        if (is(req, VfioIoctls.VFIO_DEVICE_PCI_HOT_RESET)) {
            return hotReset(d, p);
        }
        return -Errno.ENOTTY;
    }

    /**
     * VFIO_DEVICE_IOEVENTFD as vfio-pci answers it: one width flag, the offset inside a BAR region (the MSI-X table
     * excluded is not modelled), the write aligned to its width; an fd assigns, -1 de-assigns the same
     * offset/data/width (ENODEV when there is none). Assigned ones are listed by {@link #ioeventfds()}.
     */
    private int ioeventfd(FakeVfioDevice d, Pointer p) {
        if (p.getInt(VfioLayouts.DeviceIoEventFd.ARGSZ) < VfioLayouts.DeviceIoEventFd.SIZE) {
            return -Errno.EINVAL;
        }
        int flags = p.getInt(VfioLayouts.DeviceIoEventFd.FLAGS);
        int size = flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
        if ((flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK) != 0 || Integer.bitCount(size) != 1) {
            return -Errno.EINVAL;
        }
        int bytes = size == VFIO_DEVICE_IOEVENTFD_8 ? 1 : size == VFIO_DEVICE_IOEVENTFD_16 ? 2
                : size == VFIO_DEVICE_IOEVENTFD_32 ? 4 : 8;
        long offset = p.getLong(VfioLayouts.DeviceIoEventFd.OFFSET);
        int index = (int) (offset >>> FakeVfioDevice.OFFSET_SHIFT);
        long within = offset & ((1L << FakeVfioDevice.OFFSET_SHIFT) - 1);
        if (index > VFIO_PCI_BAR5_REGION_INDEX || index >= d.numRegions() || d.region(index) == null
                || within + bytes > d.region(index).size || (within & (bytes - 1)) != 0) {
            return -Errno.EINVAL;
        }
        long data = p.getLong(VfioLayouts.DeviceIoEventFd.DATA);
        int efd = p.getInt(VfioLayouts.DeviceIoEventFd.FD);
        String key = String.format("%s offset 0x%x width %d data 0x%x", d.name, offset, bytes, data);
        if (efd == -1) {
            return ioeventfds.remove(key) != null ? 0 : -Errno.ENODEV;
        }
        if (efd < 0 || ioeventfds.containsKey(key)) {
            return efd < 0 ? -Errno.EBADF : -Errno.EEXIST;
        }
        ioeventfds.put(key, efd);
        return 0;
    }

    /** The VFIO_DEVICE_IOEVENTFD registrations in force: "device offset 0x.. width N data 0x.." -> eventfd. */
    public synchronized Map<String, Integer> ioeventfds() {
        return Map.copyOf(ioeventfds);
    }

    private int regionInfo(FakeVfioDevice d, Pointer p) {
        int minsz = VfioLayouts.RegionInfo.SIZE;
        int argsz = p.getInt(0);
        if (argsz < minsz) {
            return -Errno.EINVAL;
        }
        int index = p.getInt(8);
        if (index < 0 || index >= d.numRegions()) {
            return -Errno.EINVAL;
        }
        if (d.rawRegionInfo.containsKey(index)) {
            byte[] answer = d.rawRegionInfo.get(index).apply(argsz);
            p.write(0, answer, 0, Math.min(argsz, answer.length));
            return 0;
        }
        FakeRegion r = d.regions.get(index);
        if (r == null && index == VFIO_PCI_VGA_REGION_INDEX) {
            // vfio-pci answers EINVAL for the VGA index of a device that has no VGA ranges (seen on 6.1).
            return -Errno.EINVAL;
        }
        ByteBuffer info = le(minsz);
        info.putInt(0, argsz);
        info.putInt(8, index);
        info.putLong(24, (long) index << FakeVfioDevice.OFFSET_SHIFT);
        if (r != null) {
            info.putInt(4, r.flags & ~VFIO_REGION_INFO_FLAG_CAPS);
            info.putLong(16, r.size);
            writeWithCaps(p, info, argsz, minsz, minsz, 4, VFIO_REGION_INFO_FLAG_CAPS, 12, r.caps);
        } else {
            p.write(0, info.array(), 0, minsz);
        }
        return 0;
    }

    private int setIrqs(FakeVfioDevice d, Pointer p) {
        int minsz = VfioLayouts.IrqSet.SIZE;
        int argsz = p.getInt(0);
        int flags = p.getInt(4);
        int index = p.getInt(8);
        int start = p.getInt(12);
        int count = p.getInt(16);
        if (argsz < minsz || index < 0 || index >= d.numIrqs()
                || (flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) != 0
                || Integer.toUnsignedLong(count) >= 0xffffffffL - Integer.toUnsignedLong(start)) {
            return -Errno.EINVAL;
        }
        int size;
        switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
            case VFIO_IRQ_SET_DATA_NONE: size = 0; break;
            case VFIO_IRQ_SET_DATA_BOOL: size = 1; break;
            case VFIO_IRQ_SET_DATA_EVENTFD: size = 4; break;
            default: return -Errno.EINVAL;
        }
        int max = d.irqs.getOrDefault(index, new int[] {0, 0})[1];
        if (start >= max || start + count > max) {
            return -Errno.EINVAL;
        }
        if (size > 0 && argsz - minsz < (long) count * size) {
            return -Errno.EINVAL;
        }
        int action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
        int data = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
        int irqFlags = d.irqs.get(index)[0];
        switch (action) {
            case VFIO_IRQ_SET_ACTION_TRIGGER: {
                if (data == VFIO_IRQ_SET_DATA_NONE && count == 0) {
                    d.triggers.remove(index);
                    d.enabledVectors.remove(index);
                    return 0;
                }
                // vfio_msi_set_block: with MSI/MSI-X enabled, a trigger beyond the vectors allocated at enable is
                // refused (the library must disable and enable again with more).
                if (!d.platform() && data == VFIO_IRQ_SET_DATA_EVENTFD && (index == VFIO_PCI_MSI_IRQ_INDEX
                        || index == VFIO_PCI_MSIX_IRQ_INDEX) && d.triggers.containsKey(index)
                        && start + count > d.enabledVectors.getOrDefault(index, 0)) {
                    return -Errno.EINVAL;
                }
                // vfio-pci enables one of INTx, MSI and MSI-X at a time: the others must be disabled first.
                if (!d.platform() && data == VFIO_IRQ_SET_DATA_EVENTFD && index <= VFIO_PCI_MSIX_IRQ_INDEX) {
                    for (int other = VFIO_PCI_INTX_IRQ_INDEX; other <= VFIO_PCI_MSIX_IRQ_INDEX; other++) {
                        if (other != index && d.triggers.containsKey(other)) {
                            return -Errno.EINVAL;
                        }
                    }
                }
                int[] t = d.triggers.computeIfAbsent(index, k -> filled(max));
                if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
                    d.enabledVectors.merge(index, start + count, Math::max);
                    for (int i = 0; i < count; i++) {
                        t[start + i] = p.getInt(minsz + 4L * i);
                    }
                } else {
                    for (int i = 0; i < count; i++) {
                        if (data == VFIO_IRQ_SET_DATA_NONE || p.getByte(minsz + i) != 0) {
                            if (d.platform()) {
                                raise(d, index, start + i); // vfio-platform runs its handler: automask applies
                            } else {
                                fire(t[start + i]);
                            }
                        }
                    }
                }
                return 0;
            }
            case VFIO_IRQ_SET_ACTION_MASK:
            case VFIO_IRQ_SET_ACTION_UNMASK: {
                if ((irqFlags & VFIO_IRQ_INFO_MASKABLE) == 0) {
                    return -Errno.EINVAL;
                }
                if (action == VFIO_IRQ_SET_ACTION_UNMASK && data == VFIO_IRQ_SET_DATA_EVENTFD) {
                    // vfio-pci takes an unmask eventfd for INTx only; vfio-platform for any (maskable) index.
                    if ((!d.platform() && index != VFIO_PCI_INTX_IRQ_INDEX) || start != 0 || count != 1) {
                        return -Errno.EINVAL;
                    }
                    int fd = p.getInt(minsz);
                    if (fd < 0) {
                        d.unmaskFds.remove(index);
                    } else {
                        d.unmaskFds.put(index, fd);
                    }
                    return 0;
                }
                if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
                    return -Errno.EINVAL;
                }
                boolean[] m = d.masked.computeIfAbsent(index, k -> new boolean[max]);
                for (int i = 0; i < count; i++) {
                    if (data == VFIO_IRQ_SET_DATA_NONE || p.getByte(minsz + i) != 0) {
                        m[start + i] = action == VFIO_IRQ_SET_ACTION_MASK;
                    }
                }
                return 0;
            }
            default:
                return -Errno.ENOTTY; // zero or several actions
        }
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, -1);
        return a;
    }

    private void fire(int eventfd) {
        if (eventfd >= 0) {
            Memory one = new Memory(8);
            one.setLong(0, 1);
            real.write(eventfd, one, 8);
        }
    }

    /** Fires vector {@code vector} of IRQ index {@code index} of {@code device}, as the hardware would. */
    public synchronized boolean raise(FakeVfioDevice device, int index, int vector) {
        int[] t = device.triggers.get(index);
        if (t == null || vector >= t.length || t[vector] < 0 || device.masked(index, vector)) {
            return false;
        }
        if (device.platform() && (device.irqs.get(index)[0] & VFIO_IRQ_INFO_AUTOMASKED) != 0) {
            // vfio_automasked_irq_handler: the line stays masked until an unmask (or the unmask eventfd).
            device.masked.computeIfAbsent(index, k -> new boolean[t.length])[vector] = true;
        }
        fire(t[vector]);
        return true;
    }

    /**
     * What the kernel does when the unmask eventfd of a vfio-platform IRQ is signalled (its virqfd): unmasks the
     * line. Returns false when no unmask eventfd is registered for it.
     */
    public synchronized boolean unmaskEventfdSignalled(FakeVfioDevice device, int index) {
        if (!device.unmaskFds.containsKey(index)) {
            return false;
        }
        boolean[] m = device.masked.get(index);
        if (m != null) {
            m[0] = false;
        }
        return true;
    }

    private int hotResetInfo(FakeVfioDevice d, Pointer p) {
        int minsz = VfioLayouts.HotResetInfo.SIZE;
        int argsz = p.getInt(0);
        if (argsz < minsz) {
            return -Errno.EINVAL;
        }
        if (d.hotResetDevices == null && !d.hotResetEnospcForever) {
            return -Errno.ENODEV;
        }
        int room = (argsz - minsz) / VfioLayouts.HotResetInfo.DEVICE_SIZE;
        int count = d.hotResetEnospcForever ? room + 1 : d.hotResetDevices.size();
        if (argsz < minsz + count * VfioLayouts.HotResetInfo.DEVICE_SIZE) {
            p.setInt(8, count);
            return -Errno.ENOSPC;
        }
        p.setInt(4, 0);
        p.setInt(8, count);
        for (int i = 0; i < count; i++) {
            DependentDevice dd = d.hotResetDevices.get(i);
            long at = minsz + (long) i * VfioLayouts.HotResetInfo.DEVICE_SIZE;
            p.setInt(at, dd.groupId());
            p.setShort(at + 4, (short) dd.segment());
            p.setByte(at + 6, (byte) dd.bus());
            p.setByte(at + 7, (byte) dd.devfn());
        }
        return 0;
    }

    private int hotReset(FakeVfioDevice d, Pointer p) {
        int minsz = VfioLayouts.HotReset.SIZE;
        int argsz = p.getInt(0);
        int flags = p.getInt(4);
        int count = p.getInt(8);
        if (argsz < minsz || flags != 0) {
            return -Errno.EINVAL;
        }
        if (d.hotResetDevices == null) {
            return -Errno.ENODEV;
        }
        if (count <= 0 || count > d.hotResetDevices.size() || argsz - minsz < 4L * count) {
            return -Errno.EINVAL;
        }
        Set<Integer> given = new HashSet<>();
        for (int i = 0; i < count; i++) {
            Object h = fds.get(p.getInt(minsz + 4L * i));
            if (!(h instanceof GroupHandle g)) {
                return -Errno.EINVAL;
            }
            given.add(g.group().id);
        }
        for (DependentDevice dd : d.hotResetDevices) {
            if (!given.contains(dd.groupId())) {
                return -Errno.EINVAL;
            }
        }
        d.hotResets++;
        d.lastHotResetGroupIds = given.stream().mapToInt(Integer::intValue).sorted().toArray();
        return 0;
    }

    // ------------------------------------------------------------------ region access

    private FakeRegion regionAt(FakeVfioDevice d, long offset) {
        return d.regions.get((int) (offset >>> FakeVfioDevice.OFFSET_SHIFT));
    }

    private long access(int fd, Pointer buf, long count, long offset, boolean write) {
        DeviceHandle h = (DeviceHandle) fds.get(fd);
        FakeRegion r = regionAt(h.device(), offset);
        if (r == null) {
            return -Errno.EINVAL;
        }
        if (r.failErrno != 0) {
            return -r.failErrno;
        }
        if ((r.flags & (write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ)) == 0) {
            return -Errno.EINVAL;
        }
        long pos = offset & ((1L << FakeVfioDevice.OFFSET_SHIFT) - 1);
        if (pos >= r.size) {
            return -Errno.EINVAL;
        }
        FakeVfioDevice d = h.device();
        if (!d.memoryEnabled && isMemoryBar(d, r.index)) {
            return -Errno.EIO; // vfio_pci_core_do_io_rw: memory disabled or D3hot
        }
        int n = (int) Math.min(count, r.size - pos);
        if (write) {
            if (r.index == VFIO_PCI_CONFIG_REGION_INDEX) {
                d.onConfigWrite.accept((int) pos, n);
            }
            if (r.index == VFIO_PCI_CONFIG_REGION_INDEX && !d.configReadOnly.isEmpty()) {
                byte[] in = buf.getByteArray(0, n);
                for (int i = 0; i < n; i++) {
                    if (!d.configReadOnly.get((int) pos + i)) {
                        r.contents[(int) pos + i] = in[i];
                    }
                }
            } else {
                buf.read(0, r.contents, (int) pos, n);
            }
            if (r.index == VFIO_PCI_CONFIG_REGION_INDEX && d.pmCap >= 0) {
                updateMemoryEnable(d);
            }
        } else {
            buf.write(0, r.contents, (int) pos, n);
        }
        return n;
    }

    private static boolean isMemoryBar(FakeVfioDevice d, int index) {
        if (index > VFIO_PCI_BAR5_REGION_INDEX) {
            return false;
        }
        FakeRegion config = d.regions.get(VFIO_PCI_CONFIG_REGION_INDEX);
        return config == null || (config.contents[0x10 + 4 * index] & 1) == 0;
    }

    /** Follows the command register's memory bit and the PM state; zaps or restores the BAR mmaps on a change. */
    private void updateMemoryEnable(FakeVfioDevice d) {
        byte[] c = d.regions.get(VFIO_PCI_CONFIG_REGION_INDEX).contents;
        boolean enabled = (c[0x04] & 0x02) != 0 && (c[d.pmCap + 4] & 0x03) != 0x03;
        if (enabled == d.memoryEnabled) {
            return;
        }
        d.memoryEnabled = enabled;
        if (!enabled) {
            d.onMemoryDisabled.run();
        }
        for (Map.Entry<Long, Mmap> e : mmaps.entrySet()) {
            Mmap m = e.getValue();
            if (!d.regions.containsValue(m.region())) {
                continue;
            }
            long address = e.getKey();
            long r = real.mmap(address, m.length(), enabled ? Linux.PROT_READ | Linux.PROT_WRITE : Linux.PROT_NONE,
                    Linux.MAP_FIXED | Linux.MAP_SHARED | Linux.MAP_ANONYMOUS, -1, 0);
            if (r != address) {
                throw new IllegalStateException("fake kernel: remapping a BAR mmap failed: " + r);
            }
            if (enabled) {
                m.memory().write(0, m.region().contents, (int) m.offset(),
                        (int) Math.min(m.length(), m.region().size - m.offset()));
            }
        }
    }

    @Override
    public synchronized long pread(int fd, Pointer buf, long count, long offset) {
        if (fds.get(fd) instanceof DeviceHandle) {
            return access(fd, buf, count, offset, false);
        }
        if (fd >= FD_BASE && !fds.containsKey(fd)) {
            return badFd(Errno.EBADF);
        }
        return fds.containsKey(fd) ? -Errno.EINVAL : real.pread(fd, buf, count, offset);
    }

    @Override
    public synchronized long pwrite(int fd, Pointer buf, long count, long offset) {
        if (fds.get(fd) instanceof DeviceHandle) {
            return access(fd, buf, count, offset, true);
        }
        if (fd >= FD_BASE && !fds.containsKey(fd)) {
            return badFd(Errno.EBADF);
        }
        return fds.containsKey(fd) ? -Errno.EINVAL : real.pwrite(fd, buf, count, offset);
    }

    /**
     * mmap of a device fd gives a private copy of the region's bytes at that range (the fake can't share memory
     * with its byte arrays); other fds go to the real kernel.
     */
    @Override
    public synchronized long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        Object h = fds.get(fd);
        if (h == null) {
            return fd >= FD_BASE ? badFd(Errno.EBADF) : real.mmap(addr, length, prot, flags, fd, offset);
        }
        if (!(h instanceof DeviceHandle dh)) {
            return -Errno.ENODEV;
        }
        FakeRegion r = regionAt(dh.device(), offset);
        long pos = offset & ((1L << FakeVfioDevice.OFFSET_SHIFT) - 1);
        if (r == null || (flags & Linux.MAP_SHARED) == 0 || (r.flags & VFIO_REGION_INFO_FLAG_MMAP) == 0
                || (pos & (Linux.PAGE_SIZE - 1)) != 0 || length <= 0) {
            return -Errno.EINVAL;
        }
        long physLen = (r.size + Linux.PAGE_SIZE - 1) & ~(Linux.PAGE_SIZE - 1);
        if (pos + length > physLen) {
            return -Errno.EINVAL;
        }
        // Page-aligned anonymous shared memory, like a real BAR mmap, so KVM accepts it as a memslot.
        long address = real.mmap(0, length, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED | Linux.MAP_ANONYMOUS,
                -1, 0);
        if (address < 0 && address > -4096) {
            return address;
        }
        Pointer m = new Pointer(address);
        m.write(0, r.contents, (int) pos, (int) Math.min(length, r.size - pos));
        if (!dh.device().memoryEnabled) {
            real.mmap(address, length, Linux.PROT_NONE, Linux.MAP_FIXED | Linux.MAP_SHARED | Linux.MAP_ANONYMOUS, -1,
                    0); // zapped until memory is enabled
        }
        mmaps.put(address, new Mmap(m, r, pos, length));
        return address;
    }

    @Override
    public synchronized int munmap(long addr, long length) {
        Mmap m = mmaps.get(addr);
        if (m == null) {
            return real.munmap(addr, length);
        }
        if (m.length() != length) {
            return -Errno.EINVAL; // the library always unmaps exactly what it mapped
        }
        mmaps.remove(addr);
        return real.munmap(addr, length);
    }

    /** The region range each live fake mmap covers, as {@code "region N offset 0x.. length 0x.."}. */
    public synchronized List<String> mmapRanges() {
        List<String> out = new ArrayList<>();
        for (Mmap m : mmaps.values()) {
            out.add(String.format("region %d offset 0x%x length 0x%x", m.region().index, m.offset(), m.length()));
        }
        out.sort(null);
        return out;
    }

    @Override
    public int eventfd(int initialValue, int flags) {
        return real.eventfd(initialValue, flags);
    }

    @Override
    public long read(int fd, Pointer buf, long count) {
        return real.read(fd, buf, count);
    }

    @Override
    public long write(int fd, Pointer buf, long count) {
        return real.write(fd, buf, count);
    }

    @Override
    public int poll(Pointer fds, int nfds, int timeoutMillis) {
        return real.poll(fds, nfds, timeoutMillis);
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
