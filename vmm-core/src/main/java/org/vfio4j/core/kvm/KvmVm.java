package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;

/**
 * A KVM virtual machine: thin wrappers over the VM ioctls (memory regions, in-kernel irqchip, GSI routing, irqfd,
 * ioeventfd, MSI injection, devices) and the owner of everything made from them. {@link #close()} closes vCPUs,
 * removes memslots, detaches irqfds and ioeventfds still registered, then closes the VM fd; it is idempotent.
 */
public final class KvmVm implements AutoCloseable {
    /** Where KVM_SET_TSS_ADDR puts the three TSS pages (below the 4 GiB hole's BIOS area, as QEMU does). */
    public static final long DEFAULT_TSS_ADDRESS = 0xfeffd000L;
    /** Where KVM_SET_IDENTITY_MAP_ADDR puts the real-mode identity page table (the page below the TSS). */
    public static final long DEFAULT_IDENTITY_MAP_ADDRESS = 0xfeffc000L;

    private final Kvm kvm;
    private final FileDescriptor fd;
    private final Memslots memslots;
    private final List<AutoCloseable> owned = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean irqchip;
    private volatile CoalescedIo coalesced;

    KvmVm(Kvm kvm, FileDescriptor fd) {
        this.kvm = kvm;
        this.fd = fd;
        int nr = fd.ioctl(KvmAbi.KVM_CHECK_EXTENSION, KvmAbi.Cap.NR_MEMSLOTS);
        this.memslots = new Memslots(nr > 0 ? nr : 32);
    }

    /**
     * This VM's coalesced I/O ring ({@link CoalescedIo}), created on first use: asking for it costs two
     * KVM_CHECK_EXTENSION calls, and a VM that never asks has no ring to drain.
     */
    public CoalescedIo coalescedIo() {
        CoalescedIo c = coalesced;
        if (c == null) {
            synchronized (this) {
                c = coalesced;
                if (c == null) {
                    c = new CoalescedIo(this);
                    coalesced = c;
                }
            }
        }
        return c;
    }

    /** The ring if {@link #coalescedIo()} was ever asked for, else null (the run loop's per-exit check). */
    CoalescedIo coalescedIoIfUsed() {
        return coalesced;
    }

    /** The VM fd. */
    public FileDescriptor fd() {
        return fd;
    }

    /** The system KVM this VM was made from. */
    public Kvm kvm() {
        return kvm;
    }

    /** The seam this VM calls through. */
    public Syscalls syscalls() {
        return fd.syscalls();
    }

    /** The slot budget shared by every memory region of this VM. */
    public Memslots memslots() {
        return memslots;
    }

    /** KVM_CHECK_EXTENSION on the VM fd (answers can differ per VM). */
    public int checkExtension(int capability) {
        return fd.ioctl(KvmAbi.KVM_CHECK_EXTENSION, capability);
    }

    /**
     * KVM_CREATE_IRQCHIP: in-kernel PIC pair, IOAPIC and a local APIC per vCPU, with the default GSI routing (GSI
     * 0-15 to the PICs and IOAPIC, 16-23 to the IOAPIC). Must come before the first vCPU.
     */
    public void createIrqchip() {
        fd.ioctl(KvmAbi.KVM_CREATE_IRQCHIP, 0L);
        irqchip = true;
    }

    /**
     * KVM_CREATE_PIT2: the in-kernel i8254 timer on ports 0x40-0x43 feeding GSI 0, with a dummy speaker port (0x61)
     * so a guest's PC-speaker gate polling during PIT calibration is answered in the kernel. Needs the irqchip.
     */
    public void createPit() {
        Memory config = new Memory(KvmAbi.Sizes.PIT_CONFIG);
        config.clear();
        config.setInt(0, KvmAbi.KVM_PIT_SPEAKER_DUMMY);
        fd.ioctl(KvmAbi.KVM_CREATE_PIT2, config);
    }

    /** True after {@link #createIrqchip()}. */
    public boolean hasIrqchip() {
        return irqchip;
    }

    /**
     * KVM_SET_TSS_ADDR: three pages of guest-physical space that Intel VMX needs for real-mode emulation. The range
     * must not hold RAM or devices.
     */
    public void setTssAddress(long address) {
        fd.ioctl(KvmAbi.KVM_SET_TSS_ADDR, address);
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page for the identity page table VMX uses for unpaged guest code. */
    public void setIdentityMapAddress(long address) {
        Memory arg = new Memory(8);
        arg.setLong(0, address);
        fd.ioctl(KvmAbi.KVM_SET_IDENTITY_MAP_ADDR, arg);
    }

    /**
     * Creates a memory slot mapping {@code size} bytes of host memory at {@code hostAddress} at guest address
     * {@code guestAddress}. All three must be page-aligned.
     *
     * @param flags {@link KvmAbi#KVM_MEM_READONLY}, {@link KvmAbi#KVM_MEM_LOG_DIRTY_PAGES} or 0
     */
    public Memslot mapMemory(long guestAddress, long size, long hostAddress, int flags, String name) {
        if (((guestAddress | size | hostAddress) & 0xfff) != 0 || size <= 0) {
            throw new IllegalArgumentException(String.format(
                    "%s: memslot needs page-aligned gpa/size/host address, got gpa 0x%x size 0x%x host 0x%x", name,
                    guestAddress, size, hostAddress));
        }
        int slot = memslots.allocate(name);
        try {
            setUserMemoryRegion(slot, flags, guestAddress, size, hostAddress, name);
        } catch (RuntimeException e) {
            memslots.free(slot);
            throw e;
        }
        Memslot m = new Memslot(this, slot, guestAddress, size, hostAddress, flags, name);
        owned.add(m);
        return m;
    }

    void setUserMemoryRegion(int slot, int flags, long guestAddress, long size, long hostAddress, String name) {
        Memory arg = new Memory(KvmAbi.Sizes.USER_MEMORY_REGION);
        arg.setInt(KvmAbi.MemRegion.SLOT, slot);
        arg.setInt(KvmAbi.MemRegion.FLAGS, flags);
        arg.setLong(KvmAbi.MemRegion.GUEST_PHYS_ADDR, guestAddress);
        arg.setLong(KvmAbi.MemRegion.MEMORY_SIZE, size);
        arg.setLong(KvmAbi.MemRegion.USERSPACE_ADDR, hostAddress);
        int r = fd.ioctlRaw(KvmAbi.KVM_SET_USER_MEMORY_REGION, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_SET_USER_MEMORY_REGION.name(), -r,
                    String.format("slot %d %s gpa 0x%x size 0x%x flags 0x%x", slot, name, guestAddress, size, flags));
        }
    }

    void forget(AutoCloseable resource) {
        owned.remove(resource);
    }

    /** KVM_CREATE_VCPU with {@code id} (the APIC id), and maps its {@code kvm_run} page. */
    public KvmVcpu createVcpu(int id) {
        int vcpuFd = fd.ioctl(KvmAbi.KVM_CREATE_VCPU, id);
        KvmVcpu vcpu = new KvmVcpu(this, id, new FileDescriptor(fd.syscalls(), vcpuFd, "kvm vcpu " + id));
        owned.add(vcpu);
        return vcpu;
    }

    /**
     * KVM_IRQ_LINE: sets the level of {@code gsi} on the in-kernel irqchip. Nothing happens once the VM is closed (a
     * device may outlive its VM; its fd number may already belong to another VM).
     */
    public void irqLine(int gsi, boolean level) {
        if (!isOpen()) {
            return;
        }
        Memory arg = new Memory(KvmAbi.Sizes.IRQ_LEVEL);
        arg.setInt(0, gsi);
        arg.setInt(4, level ? 1 : 0);
        int r = fd.ioctlRaw(KvmAbi.KVM_IRQ_LINE, arg);
        if (r < 0 && !isOpen()) {
            return; // closed meanwhile
        }
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_IRQ_LINE.name(), -r,
                    "gsi " + gsi + " level " + (level ? 1 : 0));
        }
    }

    /**
     * KVM_SIGNAL_MSI: injects one MSI now.
     *
     * @return true when delivered, false when the guest blocked it (e.g. its LAPIC is software-disabled) or the VM is
     *     closed (a device may outlive its VM; nothing is sent then)
     */
    public boolean signalMsi(long address, int data) {
        if (!isOpen()) {
            return false;
        }
        Memory arg = new Memory(KvmAbi.Sizes.MSI);
        arg.clear();
        arg.setInt(KvmAbi.Msi.ADDRESS_LO, (int) address);
        arg.setInt(KvmAbi.Msi.ADDRESS_HI, (int) (address >>> 32));
        arg.setInt(KvmAbi.Msi.DATA, data);
        int r = fd.ioctlRaw(KvmAbi.KVM_SIGNAL_MSI, arg);
        if (r < 0 && !isOpen()) {
            return false; // closed meanwhile
        }
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_SIGNAL_MSI.name(), -r,
                    String.format("address 0x%x data 0x%x", address, data));
        }
        return r > 0;
    }

    /** KVM_SET_GSI_ROUTING: replaces the whole routing table with {@code routes}. */
    public void setGsiRouting(List<GsiRoute> routes) {
        Memory arg = new Memory(KvmAbi.Sizes.IRQ_ROUTING + (long) KvmAbi.Sizes.IRQ_ROUTING_ENTRY
                * Math.max(1, routes.size()));
        arg.clear();
        arg.setInt(0, routes.size());
        long off = KvmAbi.Sizes.IRQ_ROUTING;
        for (GsiRoute route : routes) {
            arg.setInt(off + KvmAbi.RoutingEntry.GSI, route.gsi());
            if (route instanceof GsiRoute.Irqchip chip) {
                arg.setInt(off + KvmAbi.RoutingEntry.TYPE, KvmAbi.KVM_IRQ_ROUTING_IRQCHIP);
                arg.setInt(off + KvmAbi.RoutingEntry.IRQCHIP_IRQCHIP, chip.irqchip());
                arg.setInt(off + KvmAbi.RoutingEntry.IRQCHIP_PIN, chip.pin());
            } else if (route instanceof GsiRoute.Msi msi) {
                arg.setInt(off + KvmAbi.RoutingEntry.TYPE, KvmAbi.KVM_IRQ_ROUTING_MSI);
                arg.setInt(off + KvmAbi.RoutingEntry.MSI_ADDRESS_LO, (int) msi.address());
                arg.setInt(off + KvmAbi.RoutingEntry.MSI_ADDRESS_HI, (int) (msi.address() >>> 32));
                arg.setInt(off + KvmAbi.RoutingEntry.MSI_DATA, msi.data());
            }
            off += KvmAbi.Sizes.IRQ_ROUTING_ENTRY;
        }
        int r = fd.ioctlRaw(KvmAbi.KVM_SET_GSI_ROUTING, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_SET_GSI_ROUTING.name(), -r,
                    routes.size() + " entries");
        }
    }

    /**
     * The routing KVM_CREATE_IRQCHIP installs on x86: GSI 0-15 to the PIC pins and the IOAPIC pin of the same
     * number, GSI 16-23 to the IOAPIC. A routing table rewrite must carry these entries to keep legacy lines working.
     */
    public static List<GsiRoute> defaultIrqchipRoutes() {
        List<GsiRoute> routes = new ArrayList<>();
        for (int gsi = 0; gsi < 24; gsi++) {
            if (gsi < 8) {
                routes.add(new GsiRoute.Irqchip(gsi, KvmAbi.KVM_IRQCHIP_PIC_MASTER, gsi));
            } else if (gsi < 16) {
                routes.add(new GsiRoute.Irqchip(gsi, KvmAbi.KVM_IRQCHIP_PIC_SLAVE, gsi - 8));
            }
            routes.add(new GsiRoute.Irqchip(gsi, KvmAbi.KVM_IRQCHIP_IOAPIC, gsi));
        }
        return routes;
    }

    /**
     * KVM_IRQFD: makes each signal of {@code trigger} raise {@code gsi} inside the kernel. With {@code resample}
     * (level-triggered lines) the line stays asserted until the guest's EOI, when KVM deasserts it and signals
     * {@code resample}.
     *
     * @return the binding; closing it deassigns the irqfd (the eventfds stay open)
     */
    public IrqFd irqfd(EventFd trigger, int gsi, EventFd resample) {
        int flags = resample != null ? KvmAbi.KVM_IRQFD_FLAG_RESAMPLE : 0;
        irqfdIoctl(trigger.fd(), gsi, flags, resample != null ? resample.fd() : 0, trigger.name());
        IrqFd binding = new IrqFd(this, trigger, gsi);
        owned.add(binding);
        return binding;
    }

    void irqfdIoctl(int triggerFd, int gsi, int flags, int resampleFd, String what) {
        Memory arg = new Memory(KvmAbi.Sizes.IRQFD);
        arg.clear();
        arg.setInt(KvmAbi.IrqFd.FD, triggerFd);
        arg.setInt(KvmAbi.IrqFd.GSI, gsi);
        arg.setInt(KvmAbi.IrqFd.FLAGS, flags);
        arg.setInt(KvmAbi.IrqFd.RESAMPLEFD, resampleFd);
        int r = fd.ioctlRaw(KvmAbi.KVM_IRQFD, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_IRQFD.name(), -r,
                    String.format("%s gsi %d flags 0x%x", what, gsi, flags));
        }
    }

    /**
     * KVM_IOEVENTFD: a guest write of {@code length} bytes at {@code address} (port I/O when {@code pio}) signals
     * {@code eventfd} inside the kernel, without a userspace exit. With {@code datamatch}, only writes of that value
     * do; others exit as usual.
     *
     * @return the registration; closing it deassigns (the eventfd stays open)
     */
    public IoEventFd ioeventfd(EventFd eventfd, long address, int length, boolean pio, OptionalLong datamatch) {
        int flags = (pio ? KvmAbi.KVM_IOEVENTFD_FLAG_PIO : 0)
                | (datamatch.isPresent() ? KvmAbi.KVM_IOEVENTFD_FLAG_DATAMATCH : 0);
        IoEventFd reg = new IoEventFd(this, eventfd, address, length, flags, datamatch.orElse(0));
        ioeventfdIoctl(reg, flags);
        owned.add(reg);
        return reg;
    }

    void ioeventfdIoctl(IoEventFd reg, int flags) {
        Memory arg = new Memory(KvmAbi.Sizes.IOEVENTFD);
        arg.clear();
        arg.setLong(KvmAbi.IoEventFd.DATAMATCH, reg.datamatch());
        arg.setLong(KvmAbi.IoEventFd.ADDR, reg.address());
        arg.setInt(KvmAbi.IoEventFd.LEN, reg.length());
        arg.setInt(KvmAbi.IoEventFd.FD, reg.eventFd().fd());
        arg.setInt(KvmAbi.IoEventFd.FLAGS, flags);
        int r = fd.ioctlRaw(KvmAbi.KVM_IOEVENTFD, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_IOEVENTFD.name(), -r, reg.toString());
        }
    }

    /** KVM_CREATE_DEVICE: creates an in-kernel device of {@code type} and returns its fd (owned by the caller). */
    public FileDescriptor createDevice(int type, String name) {
        Memory arg = new Memory(KvmAbi.Sizes.CREATE_DEVICE);
        arg.clear();
        arg.setInt(KvmAbi.Device.CREATE_TYPE, type);
        int r = fd.ioctlRaw(KvmAbi.KVM_CREATE_DEVICE, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_CREATE_DEVICE.name(), -r,
                    name + " (type " + type + ")");
        }
        return new FileDescriptor(fd.syscalls(), arg.getInt(KvmAbi.Device.CREATE_FD), name);
    }

    /** True until {@link #close()}. */
    public boolean isOpen() {
        return !closed.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Closer closer = new Closer();
        // vCPUs first: a memslot or irqfd must not vanish under a running vCPU's feet.
        List<AutoCloseable> all = new ArrayList<>(owned);
        all.sort((a, b) -> Boolean.compare(!(a instanceof KvmVcpu), !(b instanceof KvmVcpu)));
        for (AutoCloseable c : all) {
            closer.run(() -> {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + fd.name() + ": " + c, e);
                }
            });
        }
        owned.clear();
        closer.close(fd);
        closer.rethrow();
    }

    @Override
    public String toString() {
        return fd.toString();
    }
}
