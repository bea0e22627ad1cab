package org.vfio4j.vfio.igd;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.vfio.testing.FakeVfioDevice.MMAP;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.vfio4j.core.VfioGroupRegistrar;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.memory.DeviceMemoryMapper;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.memory.MemoryReservations;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.testing.FakeRegion;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;

/**
 * A real KVM VM (128 MiB of RAM at 0) with a PCI host bridge, and a fake VFIO kernel holding an integrated graphics
 * function at host 0000:00:02.0 laid out as vfio-pci lays one out on Linux 6.1:
 * <ul>
 *   <li>BAR0 (GTTMMADR): 64-bit, 16 MiB, mmappable; BAR2 (GMADR): 64-bit prefetchable, mmappable (16 MiB here,
 *       256 MiB and up on hardware: the fake backs regions with byte arrays); BAR4: 64-byte I/O;</li>
 *   <li>config: 256 bytes, Intel 0x3e92 (Coffee Lake GT2, generation 9), VGA class, GMCH 0x01c0 (GMS 1 =
 *       32 MiB, GGMS 3), BDSM and ASLS holding host physical addresses, capabilities MSI then PM;</li>
 *   <li>VGA region (index 8): 0xc0000 bytes, read/write, as vfio-pci gives every VGA-class device;</li>
 *   <li>region 9: the OpRegion, 8 KiB (plus extended VBT when asked), READ only, type PCI vendor 0x8086 subtype 1;
 *       region 10: the host bridge's config space (256 bytes, READ, subtype 2); region 11: the LPC bridge's
 *       (256 bytes, READ, subtype 3). Each answers GET_REGION_INFO with a 16-byte type capability, so the library's
 *       first 32-byte query comes back asking for 48 and is re-issued (the argsz re-query);</li>
 *   <li>IRQs: INTx, MSI (1), REQ; no MSI-X or ERR (conventional PCI function).</li>
 * </ul>
 * The OpRegion follows Intel's published layout: header ("IntelGraphicsMem", size 8 KiB, version, mailbox flags),
 * mailbox 1 at 0x100, 2 at 0x200, 3 (ASLE, with RVDA/RVDS) at 0x300, 4 (VBT, "$VBT ...") at 0x400, 5 at 0x1C00.
 */
final class IgdRig implements AutoCloseable {
    static final String BDF = "0000:00:02.0";
    static final int GROUP = 1;
    static final int DEVICE_ID = 0x3e92;
    static final int GMCH = 0x01c0; // GMS 1 (32 MiB), GGMS 3, VGA decode on
    static final int HOST_BDSM = 0x7b800001;
    static final int HOST_ASLS = 0x7a6f5018;
    static final int HOST_BRIDGE_ID = 0x3e0f;
    static final int LPC_ID = 0xa306;
    static final long RAM = 128L << 20;
    static final int MSI_CAP = 0xac;
    static final int PM_CAP = 0xd0;

    final FakeVfioKernel kernel = new FakeVfioKernel();
    final FakeVfioDevice device = new FakeVfioDevice(BDF);
    final FakeRegion config;
    final PciHostBridge host = new PciHostBridge();
    Vfio vfio;
    KvmVmm kvm;
    TestVmm vmm;

    /** The standard IGD: OpRegion 2.0 without extended VBT, host and LPC config regions. */
    IgdRig(Path tmp) {
        this(tmp, r -> {
            r.opRegion(opRegion(2, 0, 0, 0));
            r.hostBridgeRegion();
            r.lpcRegion();
        });
    }

    /** {@code customize} adds (or not) the vendor regions and may change the config space. */
    IgdRig(Path tmp, Consumer<IgdRig> customize) {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        device.region(VFIO_PCI_BAR0_REGION_INDEX, 16 << 20, READ | WRITE | MMAP);
        device.region(VFIO_PCI_BAR2_REGION_INDEX, 16 << 20, READ | WRITE | MMAP);
        device.region(VFIO_PCI_BAR4_REGION_INDEX, 0x40, READ | WRITE);
        config = device.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x100, READ | WRITE);
        device.region(VFIO_PCI_VGA_REGION_INDEX, 0xc0000, READ | WRITE);
        device.irq(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1)
                .irq(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1)
                .irq(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1);
        writeConfig(config.buffer(), DEVICE_ID);
        customize.accept(this);
        kernel.addDevice(GROUP, device);
        vfio = new Vfio(kernel, new FakeSysfs(tmp).pciDevice(BDF, GROUP, "vfio-pci").sysfs());
        kvm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
        kvm.guestMemory().addRam(0, RAM, "ram");
        vmm = new TestVmm(kvm, true);
    }

    /** Adds the OpRegion region (index 9) with {@code bytes}. */
    FakeRegion opRegion(byte[] bytes) {
        FakeRegion r = device.region(9, bytes.length, READ)
                .type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION);
        System.arraycopy(bytes, 0, r.contents(), 0, bytes.length);
        return r;
    }

    /** Adds the host bridge config region (index 10): Intel 0x3e0f rev 0x0a, subsystem 1028:0869. */
    FakeRegion hostBridgeRegion() {
        FakeRegion r = device.region(10, 0x100, READ)
                .type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG);
        ByteBuffer b = r.buffer();
        b.putShort(0x00, (short) 0x8086).putShort(0x02, (short) HOST_BRIDGE_ID);
        b.putInt(0x08, 0x0600000a);
        b.putShort(0x2c, (short) 0x1028).putShort(0x2e, (short) 0x0869);
        return r;
    }

    /** Adds the LPC bridge config region (index 11): Intel 0xa306 rev 0x10, subsystem 1028:0869, ISA bridge. */
    FakeRegion lpcRegion() {
        FakeRegion r = device.region(11, 0x100, READ)
                .type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG);
        ByteBuffer b = r.buffer();
        b.putShort(0x00, (short) 0x8086).putShort(0x02, (short) LPC_ID);
        b.putInt(0x08, 0x06010010);
        b.put(0x0e, (byte) 0x80);
        b.putShort(0x2c, (short) 0x1028).putShort(0x2e, (short) 0x0869);
        return r;
    }

    FakeRegion region(int index) {
        return device.region(index);
    }

    /**
     * An OpRegion as firmware builds one: header, mailboxes 1-5 with recognisable contents, and when {@code rvds}
     * is non-zero an extended VBT of that size right after the 8 KiB (RVDA = 0x2000, relative, as vfio-pci shows
     * 2.1+).
     */
    static byte[] opRegion(int major, int minor, long rvda, int rvds) {
        ByteBuffer b = ByteBuffer.allocate(OpRegion.STANDARD_SIZE + rvds).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, "IntelGraphicsMem".getBytes(StandardCharsets.US_ASCII));
        b.putInt(0x10, 8); // KiB
        b.put(0x14, (byte) 0).put(0x15, (byte) 0).put(0x16, (byte) minor).put(0x17, (byte) major);
        b.put(0x18, "BIOS 1.2.3".getBytes(StandardCharsets.US_ASCII));
        b.put(0x38, "VBIOS 1034".getBytes(StandardCharsets.US_ASCII));
        b.putInt(0x58, OpRegion.MBOX_ACPI | OpRegion.MBOX_SWSCI | OpRegion.MBOX_ASLE | OpRegion.MBOX_ASLE_EXT);
        // Mailbox 1: DRDY, CSTS, then the DIDL list (display ids).
        b.putInt(0x100, 1).putInt(0x104, 0).putInt(0x120, 0x80000100).putInt(0x124, 0x80000410);
        // Mailbox 2: SCIC, PARM.
        b.putInt(0x200, 0x0001).putInt(0x204, 0);
        // Mailbox 3: ARDY, ASLC, then RVDA/RVDS.
        b.putInt(0x300, 1).putInt(0x304, 0);
        b.putLong(OpRegion.RVDA_OFFSET, rvda).putInt(OpRegion.RVDS_OFFSET, rvds);
        // Mailbox 4: the VBT header.
        b.put(0x400, "$VBT COFFEELAKE     ".getBytes(StandardCharsets.US_ASCII));
        b.putShort(0x414, (short) 226).putShort(0x416, (short) 0x30).putShort(0x418, (short) 0x1600);
        // Mailbox 5: PHED/BDDC marker.
        b.putInt(0x1C00, 0xA5A5_0005);
        for (int i = 0; i < rvds; i++) {
            b.put(OpRegion.STANDARD_SIZE + i, (byte) (i * 7 + 3));
        }
        if (rvds > 0) {
            b.put(OpRegion.STANDARD_SIZE, "$VBT EXTENDED".getBytes(StandardCharsets.US_ASCII));
        }
        return b.array();
    }

    static void writeConfig(ByteBuffer c, int deviceId) {
        c.order(ByteOrder.LITTLE_ENDIAN);
        c.putShort(0x00, (short) 0x8086).putShort(0x02, (short) deviceId);
        c.putShort(0x04, (short) 0x0007).putShort(0x06, (short) 0x0010);
        c.putInt(0x08, 0x03000000); // VGA, rev 0
        c.putInt(0x10, 0xf6000004).putInt(0x14, 0); // BAR0 64-bit
        c.putInt(0x18, 0xe000000c).putInt(0x1c, 0); // BAR2 64-bit prefetchable
        c.putInt(0x20, 0xf001); // BAR4 I/O
        c.putShort(0x2c, (short) 0x1028).putShort(0x2e, (short) 0x0869);
        c.put(0x34, (byte) MSI_CAP);
        c.put(0x3d, (byte) 1);
        c.putShort(0x50, (short) GMCH);
        c.putInt(0x5c, HOST_BDSM);
        c.putInt(0xfc, HOST_ASLS);
        // MSI: 1 vector, 32-bit
        c.put(MSI_CAP, (byte) 0x05).put(MSI_CAP + 1, (byte) PM_CAP).putShort(MSI_CAP + 2, (short) 0);
        c.put(PM_CAP, (byte) 0x01).put(PM_CAP + 1, (byte) 0).putShort(PM_CAP + 2, (short) 0x0022);
    }

    /** Attaches at guest 00:02.0 with the IGD quirk (and any tweaks). */
    VfioPciDevice attach(IgdQuirk quirk, UnaryOperator<VfioPciOptions.Builder> tweak) {
        return VfioPciDevice.attach(vfio, vmm, host.rootBus(),
                tweak.apply(VfioPciOptions.builder(BDF).slot(2).quirk(quirk)).build());
    }

    VfioPciDevice attach() {
        return attach(new IgdQuirk(), b -> b);
    }

    /** A guest config read of {@code dev.fn} on bus 0, through the host bridge as the guest would. */
    long cfgRead(int dev, int fn, int offset, int size) {
        return host.read(0, dev, fn, offset, size);
    }

    void cfgWrite(int dev, int fn, int offset, int size, long value) {
        host.write(0, dev, fn, offset, size, value);
    }

    MemoryReservations reservations() {
        return kvm.memoryReservations().orElseThrow();
    }

    @Override
    public void close() {
        if (kvm != null) {
            kvm.close();
        }
    }

    /**
     * The real KVM VMM, except that KVM-VFIO registration is a no-op (the fake group fd is no real VFIO file) and
     * memory reservations can be switched off to play a VMM without the e820 hook.
     */
    static final class TestVmm implements Vmm {
        final KvmVmm kvm;
        final boolean reservations;

        TestVmm(KvmVmm kvm, boolean reservations) {
            this.kvm = kvm;
            this.reservations = reservations;
        }

        @Override
        public GuestMemory guestMemory() {
            return kvm.guestMemory();
        }

        @Override
        public DeviceMemoryMapper deviceMemory() {
            return kvm.deviceMemory();
        }

        @Override
        public TrapBus mmioBus() {
            return kvm.mmioBus();
        }

        @Override
        public TrapBus pioBus() {
            return kvm.pioBus();
        }

        @Override
        public InterruptController interrupts() {
            return kvm.interrupts();
        }

        @Override
        public Optional<VfioGroupRegistrar> vfioGroupRegistrar() {
            return Optional.of((fd, name) -> () -> { });
        }

        @Override
        public Optional<MemoryReservations> memoryReservations() {
            return reservations ? kvm.memoryReservations() : Optional.empty();
        }
    }
}
