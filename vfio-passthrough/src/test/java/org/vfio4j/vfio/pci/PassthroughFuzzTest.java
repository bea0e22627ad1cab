package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.kvm.GsiRoute;
import org.vfio4j.core.kvm.KvmInterruptController;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.vfio.testing.FakeRegion;

/**
 * Full-stack fuzzing of a hostile guest (issue 15): config accesses through CF8/CFC and ECAM, MMIO and port I/O of
 * 1 to 8 bytes at BAR and special-range boundaries +-8, the MSI-X table and PBA, BAR moves, power-state and FLR
 * writes, device interrupts raised in the fake kernel and injected EIO, all through the real dispatch (host bridge,
 * TrapBus, VfioPciDevice) over the byte-faithful fake VFIO kernel and this host's /dev/kvm (memslots, MSI routes,
 * irqfds).
 *
 * <p>After every step: nothing escaped; the device never saw a write to its BAR registers, its MSI and MSI-X
 * capabilities, its MSI-X table or PBA; every memslot lies inside a decoding memory BAR and never over RAM or the MSI
 * window; every deliverable MSI-X vector's KVM route holds the table's message. After detach: nothing left.
 *
 * <p>In the normal build Jazzer replays the stored inputs in {@code PassthroughFuzzTestInputs/} (regression mode);
 * {@code mvn -Pfuzz} (JAZZER_FUZZ=1) fuzzes for {@code maxDuration}.
 */
class PassthroughFuzzTest {
    static final long[] BASES = {0xe0000000L, 0xe0010000L, 0xe0014000L, 0xe0016000L, 0xe0020000L, 0xe0100000L,
        0xfee00000L, 0x100000L, 0xe0002000L};
    static final long[] EDGES = {0, 0x100, 0x1000, 0x2000, 0x2010, 0x2070, 0x2080, 0x3000, 0x3008, 0x4000, 0x10000};
    static final int[] PROTECTED_CONFIG = {0x10, 0x28, 0x30, 0x34, PassthroughRig.MSI_CAP, PassthroughRig.MSI_CAP + 24,
        PassthroughRig.MSIX_CAP, PassthroughRig.MSIX_CAP + 12};
    static final int PCIE = PassthroughRig.PCIE_CAP;

    private static PassthroughRig rig;
    private static EventLoop loop;
    private static TrapHandler cf8;
    private static EcamHandler ecam;

    private static synchronized void setUp() throws IOException {
        if (rig != null) {
            return;
        }
        Path tmp = Files.createTempDirectory("vfio4j-fuzz");
        rig = new PassthroughRig(tmp, r -> {
            r.device.modelMemoryEnable(0x40);
            r.config.buffer().putInt(PCIE + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR);
            // Read-only in hardware: identity, header type, subsystem, capability pointer, pin, capability headers,
            // PM capabilities, MSI-X table size and locations, PCIe capabilities, extended capability headers. A
            // guest write there must not rebuild the device for the next attach (the fuzzer found that it did).
            for (int[] ro : new int[][] {{0x00, 4}, {0x08, 4}, {0x0E, 1}, {0x2C, 4}, {0x34, 1}, {0x3D, 1},
                {0x40, 4}, {0x50, 2}, {0x70, 3}, {0x74, 8}, {0x80, 8}, {0x100, 4}, {0x140, 4}, {0x180, 4},
                {0x1C0, 12}}) {
                r.device.configReadOnly.set(ro[0], ro[0] + ro[1]);
            }
        });
        loop = new EventLoop(1);
        cf8 = rig.host.mechanism1();
        ecam = new EcamHandler(rig.host, 1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            loop.close();
            rig.close();
        }));
    }

    @FuzzTest(maxDuration = "5m")
    void hostileGuestNeverBreaksTheInvariants(FuzzedDataProvider data) throws IOException {
        setUp();
        VfioPciDevice dev = rig.attach(b -> b.eventLoop(loop));
        byte[] configBefore = protectedConfig();
        byte[] tableBefore = tableAndPba();
        java.util.List<Throwable> protectedWrites = new java.util.concurrent.CopyOnWriteArrayList<>();
        rig.device.onConfigWrite = (offset, length) -> {
            for (int p = 0; p < PROTECTED_CONFIG.length; p += 2) {
                if (offset < PROTECTED_CONFIG[p + 1] && PROTECTED_CONFIG[p] < offset + length) {
                    protectedWrites.add(new Throwable(String.format("config write 0x%x+%d on %s", offset, length,
                            Thread.currentThread().getName())));
                }
            }
        };
        try {
            int steps = data.consumeInt(1, 48);
            for (int i = 0; i < steps && data.remainingBytes() > 0; i++) {
                step(dev, data);
                if (!protectedWrites.isEmpty()) {
                    java.io.StringWriter w = new java.io.StringWriter();
                    protectedWrites.get(0).printStackTrace(new java.io.PrintWriter(w));
                    fail("the device saw a write to a BAR register or an MSI/MSI-X capability (step " + i + "): " + w);
                }
                assertArrayEquals(configBefore, protectedConfig(),
                        "the device's BAR registers or MSI/MSI-X capabilities changed (step " + i + ")");
                assertArrayEquals(tableBefore, tableAndPba(), "the device saw a write to its MSI-X table or PBA");
                checkMemslots(dev);
                checkRoutes(dev);
            }
        } finally {
            rig.device.onConfigWrite = (offset, length) -> { };
            rig.faults.disarm();
            rig.config.failAccesses(0);
            rig.region(VFIO_PCI_BAR5_REGION_INDEX).failAccesses(0);
            dev.detach();
        }
        assertEquals(0, rig.kernel.openFakeFds(), "fds after detach");
        assertEquals(0, rig.kernel.liveMmaps(), "mmaps after detach");
        assertEquals(0, rig.kernel.liveDmaMappings() + rig.kernel.droppedDmaMappings(), "DMA after detach");
        assertEquals(0, rig.vmm.liveSlots.get(), "memslots after detach");
        assertEquals(0, rig.kvm.mmioBus().registrations().size(), "traps after detach");
        assertEquals(0, rig.kvm.pioBus().registrations().size(), "port traps after detach");
        assertEquals(0, ((KvmInterruptController) rig.kvm.interrupts()).routingTable().stream()
                .filter(r -> r instanceof GsiRoute.Msi).count(), "MSI routes after detach");
    }

    private static void step(VfioPciDevice dev, FuzzedDataProvider data) {
        int size = data.pickValue(new int[] {1, 2, 3, 4, 5, 6, 7, 8});
        int cfgSize = data.pickValue(new int[] {1, 2, 4});
        switch (data.consumeInt(0, 12)) {
            case 0 -> {
                cf8.write(0, 4, 0x8000_0000L | (4 << 11) | (data.consumeInt(0, 0x3F) << 2));
                cf8.write(4 + data.consumeInt(0, 3), cfgSize, data.consumeLong());
            }
            case 1 -> {
                cf8.write(0, 4, 0x8000_0000L | (4 << 11) | (data.consumeInt(0, 0x3F) << 2));
                long r = cf8.read(4 + data.consumeInt(0, 3), cfgSize);
                assertEquals(0, r & ~TrapHandler.allOnes(cfgSize), "config read returned extra bits");
            }
            case 2 -> ecam.write((4L << 15) | data.consumeInt(-8, 0x1007), cfgSize, data.consumeLong());
            case 3 -> ecam.read((4L << 15) | data.consumeInt(-8, 0x1007), cfgSize);
            case 4 -> {
                long a = data.pickValue(BASES) + data.pickValue(EDGES) + data.consumeInt(-8, 8);
                if (data.consumeBoolean()) {
                    rig.kvm.mmioBus().write(a, size, data.consumeLong());
                } else {
                    rig.kvm.mmioBus().read(a, size);
                }
            }
            case 5 -> {
                long a = 0xc000 + data.consumeInt(-8, 0x28);
                if (data.consumeBoolean()) {
                    rig.kvm.pioBus().write(a, Math.min(size, 4), data.consumeLong());
                } else {
                    rig.kvm.pioBus().read(a, Math.min(size, 4));
                }
            }
            case 6 -> {
                long e = data.pickValue(BASES) + 0x2000 + 16L * data.consumeInt(0, 8) + 4L * data.consumeInt(0, 3);
                long v = data.pickValue(new long[] {0, 1, 0xfee00000L, data.consumeInt()});
                rig.kvm.mmioBus().write(e, data.pickValue(new int[] {4, 8}), v);
            }
            case 7 -> rig.cfgWrite(0x44, 2, data.consumeInt(0, 3));
            case 8 -> rig.cfgWrite(PCIE + PCI_EXP_DEVCTL, 2, data.consumeBoolean() ? PCI_EXP_DEVCTL_BCR_FLR : 0);
            case 9 -> rig.kernel.raise(rig.device, data.consumeInt(0, 4), data.consumeInt(0, 8));
            case 10 -> {
                FakeRegion r = data.consumeBoolean() ? rig.config : rig.region(VFIO_PCI_BAR5_REGION_INDEX);
                r.failAccesses(data.consumeBoolean() ? Errno.EIO : 0);
                if (data.consumeBoolean()) {
                    rig.faults.arm(data.consumeInt(1, 6), Errno.EIO);
                } else {
                    rig.faults.disarm();
                }
            }
            case 11 -> {
                int reg = data.consumeInt(0, 6);
                long v = data.consumeBoolean() ? data.pickValue(BASES) : data.consumeInt();
                rig.cfgWrite(reg == 6 ? 0x30 : 0x10 + 4 * reg, 4, v | (reg == 6 ? data.consumeInt(0, 1) : 0));
            }
            case 12 -> {
                int bits = data.consumeInt(0, 7);
                rig.cfgWrite(0x04, 2, bits & PassthroughFuzzTestBits.COMMAND);
                if (data.consumeBoolean()) {
                    rig.cfgWrite(PassthroughRig.MSIX_CAP + 2, 2, data.pickValue(new int[] {0, 0x8000, 0xC000}));
                } else {
                    rig.cfgWrite(PassthroughRig.MSI_CAP + 2, 2, data.consumeInt(0, 0x71));
                }
            }
            default -> throw new AssertionError();
        }
    }

    /** The command bits a guest may flip (I/O, memory, bus master). */
    private static final class PassthroughFuzzTestBits {
        static final int COMMAND = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    }

    private static byte[] protectedConfig() {
        byte[] c = rig.config.contents();
        byte[] out = new byte[0];
        for (int i = 0; i < PROTECTED_CONFIG.length; i += 2) {
            byte[] part = Arrays.copyOfRange(c, PROTECTED_CONFIG[i], PROTECTED_CONFIG[i + 1]);
            byte[] joined = Arrays.copyOf(out, out.length + part.length);
            System.arraycopy(part, 0, joined, out.length, part.length);
            out = joined;
        }
        return out;
    }

    private static byte[] tableAndPba() {
        byte[] c = rig.region(VFIO_PCI_BAR0_REGION_INDEX).contents();
        byte[] out = Arrays.copyOfRange(c, 0x2000, 0x2080 + 8);
        System.arraycopy(c, 0x3000, out, 0x80, 8);
        return out;
    }

    private static void checkMemslots(VfioPciDevice dev) {
        PciBars bars = dev.virtualConfig().bars;
        for (Map.Entry<Long, Long> s : rig.vmm.slotRanges.entrySet()) {
            long start = s.getKey();
            long end = start + s.getValue();
            boolean inside = false;
            for (BarDefinition d : bars.definitions()) {
                if (d.type() != org.vfio4j.pci.bar.BarType.IO && bars.isDecoding(d.index())) {
                    long base = bars.address(d.index());
                    inside |= start >= base && end <= base + d.size();
                }
            }
            assertTrue(inside, String.format("memslot 0x%x+0x%x outside every decoding memory BAR", start,
                    s.getValue()));
            assertTrue(start >= 2 << 20, "memslot over guest RAM");
            assertFalse(start < 0xfef00000L && end > 0xfee00000L, "memslot over the MSI window");
            assertTrue(rig.device.memoryEnabled(), "memslot while the device's memory is off");
        }
    }

    private static void checkRoutes(VfioPciDevice dev) {
        if (dev.interruptMode() != InterruptMode.MSIX) {
            return;
        }
        MsixCapability msix = dev.virtualConfig().msix;
        for (int v = 0; v < msix.vectors(); v++) {
            MsiMessage routed = dev.interrupts().routedMessage(v);
            if (routed != null && msix.isEnabled() && !msix.isFunctionMasked() && !msix.isVectorMasked(v)) {
                assertEquals(msix.message(v), routed, "KVM route of MSI-X vector " + v);
            }
        }
    }
}
