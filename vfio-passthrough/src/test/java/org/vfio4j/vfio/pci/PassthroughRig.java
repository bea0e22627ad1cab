package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.vfio.testing.FakeVfioDevice.MMAP;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.VfioGroupRegistrar;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.memory.DeviceMemoryMapper;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.testing.FakeRegion;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;
import org.vfio4j.vfio.testing.FaultySyscalls;

/**
 * A real KVM VM (this host's /dev/kvm) with 2 MiB of RAM and a PCI host bridge, and a fake VFIO kernel holding one
 * NIC-like function whose config space and regions follow the uAPI byte for byte:
 * <ul>
 *   <li>BAR0: 64-bit, 64 KiB, mmappable with the MSI-X-mappable capability; MSI-X table (8 vectors) at 0x2000, PBA
 *       at 0x3000;</li>
 *   <li>BAR2: 32-byte I/O BAR; BAR3: 16 KiB with sparse areas [0,0x1000) and [0x2000,0x4000); BAR4: 256-byte
 *       (sub-page), mmappable; BAR5: 8 KiB without the mmap flag;</li>
 *   <li>ROM: 64 KiB starting 55 AA; config: 4 KiB with PM, MSI (4 vectors, 64-bit, maskable), MSI-X, PCIe, and
 *       extended AER, SR-IOV, resizable BAR, DSN;</li>
 *   <li>IRQs: INTx, MSI (4), MSI-X (8), ERR, REQ.</li>
 * </ul>
 */
final class PassthroughRig implements AutoCloseable {
    static final String BDF = "0000:03:00.0";
    static final int GROUP = 12;
    static final int MSI_CAP = 0x50;
    static final int MSIX_CAP = 0x70;
    static final int PCIE_CAP = 0x80;

    final FakeVfioKernel kernel = new FakeVfioKernel();
    final FakeVfioDevice device = new FakeVfioDevice(BDF);
    final FakeRegion config;
    /** The seam the device uses: the fake kernel behind a decorator that fails calls when armed. */
    final FaultySyscalls faults;
    final Vfio vfio;
    final FakeSysfs sysfs;
    final KvmVmm kvm;
    final TestVmm vmm;
    final PciHostBridge host = new PciHostBridge();

    PassthroughRig(Path tmp) {
        this(tmp, d -> { });
    }

    /** {@code customize} may change the fake device before the VM is created. */
    PassthroughRig(Path tmp, java.util.function.Consumer<PassthroughRig> customize) {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        device.region(VFIO_PCI_BAR0_REGION_INDEX, 0x10000, READ | WRITE | MMAP).msixMappable();
        device.region(VFIO_PCI_BAR2_REGION_INDEX, 0x20, READ | WRITE);
        device.region(VFIO_PCI_BAR3_REGION_INDEX, 0x4000, READ | WRITE | MMAP).sparseMmap(0x0, 0x1000, 0x2000, 0x2000);
        device.region(VFIO_PCI_BAR4_REGION_INDEX, 0x100, READ | WRITE | MMAP);
        device.region(VFIO_PCI_BAR5_REGION_INDEX, 0x2000, READ | WRITE);
        FakeRegion rom = device.region(VFIO_PCI_ROM_REGION_INDEX, 0x10000, READ);
        rom.contents()[0] = 0x55;
        rom.contents()[1] = (byte) 0xAA;
        config = device.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x1000, READ | WRITE);
        device.irq(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1)
                .irq(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 4)
                .irq(VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 8)
                .irq(VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1)
                .irq(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1);
        writeConfig(config.buffer());
        for (int i = 0; i < 0x10000; i += 4) {
            region(VFIO_PCI_BAR0_REGION_INDEX).buffer().putInt(i, 0xB0000000 | i);
        }
        customize.accept(this);
        kernel.addDevice(GROUP, device);
        sysfs = new FakeSysfs(tmp).pciDevice(BDF, GROUP, "vfio-pci");
        faults = new FaultySyscalls(kernel);
        vfio = new Vfio(faults, sysfs.sysfs());
        kvm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
        kvm.guestMemory().addRam(0, 2 << 20, "low");
        vmm = new TestVmm(kvm);
    }

    FakeRegion region(int index) {
        return device.region(index);
    }

    /** Attaches at slot 4 with the given options tweaks. */
    VfioPciDevice attach(java.util.function.UnaryOperator<VfioPciOptions.Builder> tweak) {
        return VfioPciDevice.attach(vfio, vmm, host.rootBus(), tweak.apply(VfioPciOptions.builder(BDF).slot(4))
                .build());
    }

    VfioPciDevice attach() {
        return attach(b -> b);
    }

    /** A guest config access to the device at slot 4 through the bus. */
    long cfgRead(int offset, int size) {
        return host.rootBus().read(4, 0, offset, size);
    }

    void cfgWrite(int offset, int size, long value) {
        host.rootBus().write(4, 0, offset, size, value);
    }

    private static void writeConfig(ByteBuffer c) {
        c.order(ByteOrder.LITTLE_ENDIAN);
        c.putShort(0x00, (short) 0x8086).putShort(0x02, (short) 0x10d3);
        c.putShort(0x04, (short) 0x0007).putShort(0x06, (short) 0x0010);
        c.putInt(0x08, 0x02000001);
        c.put(0x0E, (byte) 0x80);
        c.putInt(0x10, 0xfebc0004).putInt(0x14, 0);
        c.putInt(0x18, 0xc001);
        c.putInt(0x1C, 0xfebd0000);
        c.putInt(0x20, 0xfebe0000);
        c.putInt(0x24, 0xfebf0000);
        c.putShort(0x2C, (short) 0x8086).putShort(0x2E, (short) 0x0001);
        c.putInt(0x30, 0xfec00000);
        c.put(0x34, (byte) 0x40);
        c.put(0x3C, (byte) 11).put(0x3D, (byte) 1);
        // PM
        c.put(0x40, (byte) 0x01).put(0x41, (byte) MSI_CAP).putShort(0x42, (short) 0x0003);
        // MSI: 4 vectors capable (MMC=2), 64-bit, per-vector mask
        c.put(MSI_CAP, (byte) 0x05).put(MSI_CAP + 1, (byte) MSIX_CAP).putShort(MSI_CAP + 2, (short) 0x0184);
        // MSI-X: 8 vectors, table BAR0+0x2000, PBA BAR0+0x3000
        c.put(MSIX_CAP, (byte) 0x11).put(MSIX_CAP + 1, (byte) PCIE_CAP).putShort(MSIX_CAP + 2, (short) 7);
        c.putInt(MSIX_CAP + 4, 0x2000).putInt(MSIX_CAP + 8, 0x3000);
        // PCIe v2 endpoint
        c.put(PCIE_CAP, (byte) 0x10).put(PCIE_CAP + 1, (byte) 0).putShort(PCIE_CAP + 2, (short) 0x0002);
        // Extended: AER -> SR-IOV -> REBAR -> DSN
        c.putInt(0x100, ext(0x0001, 0x140));
        c.putInt(0x140, ext(0x0010, 0x180));
        c.putInt(0x180, ext(0x0015, 0x1c0));
        c.putInt(0x1c0, ext(0x0003, 0));
        c.putInt(0x1c4, 0x12345678).putInt(0x1c8, 0x9abcdef0);
    }

    private static int ext(int id, int next) {
        return id | 1 << 16 | next << 20;
    }

    @Override
    public void close() {
        kvm.close();
    }

    /**
     * The VMM the device sees: the real KVM VMM, with KVM-VFIO registration recorded instead of done (the fake
     * group fd is not a real file, so KVM would refuse it), and every device-memory map/unmap recorded together
     * with where the BAR's trap registration was at that moment.
     */
    static final class TestVmm implements Vmm {
        final KvmVmm kvm;
        final List<String> groupEvents = new ArrayList<>();
        final List<String> slotEvents = new ArrayList<>();
        /** Device-memory slots in KVM now, and the read-only ones among them. */
        final java.util.concurrent.atomic.AtomicInteger liveSlots = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger readOnlySlots = new java.util.concurrent.atomic.AtomicInteger();
        /** Guest address to size of every device-memory slot in KVM now. */
        final java.util.Map<Long, Long> slotRanges = new java.util.concurrent.ConcurrentHashMap<>();
        DeviceEvents events = DeviceEvents.RELEASE_AT_ONCE;
        /** RAM the VMM claims besides KVM's (never backed: for layouts the device must refuse before mapping). */
        final List<RamRegion> extraRam = new ArrayList<>();
        /** When set, a memslot change made while the current thread holds this lock is recorded in lockedEffects. */
        volatile Object watchedLock;
        final List<String> lockedEffects = new java.util.concurrent.CopyOnWriteArrayList<>();

        TestVmm(KvmVmm kvm) {
            this.kvm = kvm;
        }

        @Override
        public GuestMemory guestMemory() {
            return new GuestMemory() {
                @Override
                public List<RamRegion> regions() {
                    List<RamRegion> all = new ArrayList<>(kvm.guestMemory().regions());
                    all.addAll(extraRam);
                    return all;
                }

                @Override
                public AutoCloseable addListener(Listener listener) {
                    return kvm.guestMemory().addListener(listener);
                }
            };
        }

        @Override
        public DeviceMemoryMapper deviceMemory() {
            DeviceMemoryMapper real = kvm.deviceMemory();
            return new DeviceMemoryMapper() {
                @Override
                public DeviceMemorySlot map(long gpa, long size, long host, boolean ro, String name) {
                    noteLock(String.format("memslot map 0x%x", gpa));
                    DeviceMemorySlot s = real.map(gpa, size, host, ro, name);
                    liveSlots.incrementAndGet();
                    slotRanges.put(gpa, size);
                    if (ro) {
                        readOnlySlots.incrementAndGet();
                    }
                    synchronized (slotEvents) {
                        slotEvents.add(String.format("map 0x%x trap %s", gpa, trapCovering(gpa)));
                    }
                    return new DeviceMemorySlot() {
                        final java.util.concurrent.atomic.AtomicBoolean gone =
                                new java.util.concurrent.atomic.AtomicBoolean();

                        @Override
                        public long guestAddress() {
                            return s.guestAddress();
                        }

                        @Override
                        public long size() {
                            return s.size();
                        }

                        @Override
                        public long hostAddress() {
                            return s.hostAddress();
                        }

                        @Override
                        public String name() {
                            return s.name();
                        }

                        @Override
                        public void move(long g) {
                            s.move(g);
                        }

                        @Override
                        public void close() {
                            long g = s.guestAddress();
                            noteLock(String.format("memslot unmap 0x%x", g));
                            s.close();
                            if (gone.compareAndSet(false, true)) {
                                slotRanges.remove(g);
                                liveSlots.decrementAndGet();
                                if (ro) {
                                    readOnlySlots.decrementAndGet();
                                }
                            }
                            synchronized (slotEvents) {
                                slotEvents.add(String.format("unmap 0x%x trap %s", g, trapCovering(g)));
                            }
                        }
                    };
                }

                @Override
                public int slotsAvailable() {
                    return real.slotsAvailable();
                }

                @Override
                public int slotsTotal() {
                    return real.slotsTotal();
                }
            };
        }

        /** Records {@code effect} when it runs under {@link #watchedLock}. */
        void noteLock(String effect) {
            Object lock = watchedLock;
            if (lock != null && Thread.holdsLock(lock)) {
                lockedEffects.add(effect);
            }
        }

        private String trapCovering(long gpa) {
            for (TrapBus.Registration r : kvm.mmioBus().registrations()) {
                if (Long.compareUnsigned(gpa - r.base(), r.length()) < 0) {
                    return String.format("0x%x", r.base());
                }
            }
            return "none";
        }

        @Override
        public TrapBus mmioBus() {
            return kvm.mmioBus();
        }

        @Override
        public TrapBus pioBus() {
            return kvm.pioBus();
        }

        /** When set, replaces KVM's controller (to test fallbacks). */
        InterruptController interrupts;

        @Override
        public InterruptController interrupts() {
            return interrupts != null ? interrupts : kvm.interrupts();
        }

        @Override
        public Optional<VfioGroupRegistrar> vfioGroupRegistrar() {
            return Optional.of((fd, name) -> {
                synchronized (groupEvents) {
                    groupEvents.add("add " + name);
                }
                return () -> {
                    synchronized (groupEvents) {
                        groupEvents.add("del " + name);
                    }
                };
            });
        }

        @Override
        public DeviceEvents deviceEvents() {
            return events;
        }
    }
}
