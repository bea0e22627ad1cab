package org.vfio4j.refvmm.flat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.pci.msi.MsiCapability;

/**
 * The harness and the guest library on this host's /dev/kvm, before any VFIO device is involved: the probe program
 * boots from the reset vector, walks PCI through CF8/CFC, sizes and places the BARs of an emulated function (from
 * pci-emulation), reads a BAR that the VMM backs with memory without a single MMIO exit, programs MSI and takes the
 * interrupt in its handler through the local APIC. The passthrough programs reuse all of it.
 */
class GuestMachineTest {
    private static final int VENDOR = 0x1af4;
    private static final int DEVICE = 0x10f0;
    private static final int WORD0 = 0x5eed1e55;
    private static final Duration LIMIT = Duration.ofSeconds(60);

    private final Syscalls sys = Syscalls.linux();

    @BeforeEach
    void needKvmAndBinutils() {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        assumeTrue(GuestCode.available(), "binutils (as/ld/objcopy) not available");
    }

    @Test
    void imagesAre64KiBWithTheResetVectorJumpAt0xfff0() {
        byte[] image = GuestImage.build("probe");
        assertEquals(GuestImage.SIZE, image.length);
        assertEquals((byte) 0xe9, image[0xfff0], "a near jmp at the reset vector");
        // The jump lands on the first byte of the image: the real-mode entry (cli).
        int rel = (image[0xfff1] & 0xff) | (image[0xfff2] & 0xff) << 8;
        assertEquals(0, (0xfff3 + rel) & 0xffff);
        assertEquals((byte) 0xfa, image[0]);
    }

    @Test
    void probeFindsTheFunctionPlacesItsBarsReadsMappedMemoryWithoutExitsAndTakesItsMsi() throws Exception {
        try (GuestMachine m = new GuestMachine(sys, 16L << 20);
                MemoryMapping bar0Memory = MemoryMapping.anonymous(sys, Linux.PAGE_SIZE, "emulated bar0")) {
            bar0Memory.setInt(0, WORD0);
            EmulatedFunction f = new EmulatedFunction(m, bar0Memory);
            m.pciBus().attach(3, 0, f);
            m.load(GuestImage.build("probe", Map.of("VENDOR", (long) VENDOR, "DEVICE", (long) DEVICE)));
            GuestMachine.GuestRun run = m.run(LIMIT);
            try {
                assertTrue(run.succeeded(), run.toString());
                assertEquals(PciHostBridge.DEFAULT_IDENTITY.vendorId()
                        | (long) PciHostBridge.DEFAULT_IDENTITY.deviceId() << 16, run.value("hostbridge.id"));
                assertEquals(0x80001800L, run.value("function"), "00:03.0");
                // The program placed BAR0 and BAR1 a page apart from the bottom of its window, and enabled decode.
                assertEquals(0xe0000000L, run.value("bar0"), run.toString());
                assertEquals(0x1000, run.value("bar0size"));
                assertEquals(0xe0001000L, run.value("bar1"));
                assertEquals(0xe0000000L, f.bars.address(0));
                assertTrue(f.bars.isDecoding(0) && f.bars.isDecoding(1));
                assertEquals(0x7, run.value("command") & 0x7, "I/O, memory, bus master");
                // 1000 reads of memory-backed BAR0: the value came through, and none of them left the guest.
                assertEquals(WORD0, run.value("bar0.word0"));
                assertEquals(0, run.value("bar0.changed"));
                assertEquals(0, run.exitsBetween("mark.reads.start", "mark.reads.end", KvmAbi.Exit.MMIO),
                        run.toString());
                // The BAR1 write trapped, the function sent its MSI, and the guest's handler counted it.
                assertEquals(1, f.doorbells.get());
                assertEquals(1, run.value("irq.count"));
                assertTrue(run.exits().getOrDefault("MMIO", 0L) >= 1, run.exits().toString());
            } finally {
                f.close();
            }
        }
    }

    @Test
    void aMissingDeviceEndsTheProgramWithExitCode1() throws Exception {
        try (GuestMachine m = new GuestMachine(sys, 1L << 20)) {
            m.load(GuestImage.build("probe", Map.of("VENDOR", 0x1234L, "DEVICE", 0x5678L)));
            GuestMachine.GuestRun run = m.run(LIMIT);
            assertEquals(1, run.exitCode(), run.toString());
            assertTrue(run.text().contains("# device not found"), run.text());
        }
    }

    /**
     * A small emulated PCI function: BAR0 (4 KiB) backed by host memory mapped into the guest while it decodes,
     * BAR1 (4 KiB) trapped, where any write sends MSI vector 0. A guest config write that moves a BAR or toggles
     * decode places the BARs again after the config space returned the change.
     */
    private static final class EmulatedFunction implements ConfigAccess, AutoCloseable {
        final ConfigSpace config = PciHeaders.type0("probe-fn", ConfigSpaceSize.CONVENTIONAL,
                PciIdentity.of(VENDOR, DEVICE, 0xff0000, 0), 1);
        final PciBars bars = new PciBars(config);
        final MsiCapability msi;
        final AtomicLong doorbells = new AtomicLong();
        private final GuestMachine machine;
        private final MemoryMapping bar0Memory;
        private DeviceMemorySlot bar0Slot;
        private TrapBus.Registration bar1Trap;

        EmulatedFunction(GuestMachine machine, MemoryMapping bar0Memory) {
            this.machine = machine;
            this.bar0Memory = bar0Memory;
            bars.define(BarDefinition.memory32(0, Linux.PAGE_SIZE));
            bars.define(BarDefinition.memory32(1, Linux.PAGE_SIZE));
            msi = new MsiCapability(1, true, false, message -> machine.vmm().interrupts().signalMsi(message));
            new CapabilityList(config).add(msi);
        }

        @Override
        public long read(int offset, int size) {
            return config.read(offset, size);
        }

        @Override
        public void write(int offset, int size, long value) {
            for (ConfigChange change : config.guestWrite(offset, size, value)) {
                if (change instanceof ConfigChange.BarMoved || change instanceof ConfigChange.DecodeChanged) {
                    update();
                }
            }
        }

        @Override
        public int length() {
            return config.length();
        }

        private synchronized void update() {
            if (bar0Slot != null) {
                bar0Slot.close();
                bar0Slot = null;
            }
            if (bar1Trap != null) {
                bar1Trap.close();
                bar1Trap = null;
            }
            if (bars.isDecoding(0)) {
                bar0Slot = machine.vmm().deviceMemory().map(bars.address(0), Linux.PAGE_SIZE, bar0Memory.address(),
                        false, "probe-fn bar0");
            }
            if (bars.isDecoding(1)) {
                bar1Trap = machine.vmm().mmioBus().register(bars.address(1), Linux.PAGE_SIZE, new TrapHandler() {
                    @Override
                    public long read(long offset, int size) {
                        return 0;
                    }

                    @Override
                    public void write(long offset, int size, long value) {
                        doorbells.incrementAndGet();
                        msi.trigger(0);
                    }
                }, "probe-fn bar1");
            }
        }

        @Override
        public synchronized void close() {
            if (bar0Slot != null) {
                bar0Slot.close();
            }
            if (bar1Trap != null) {
                bar1Trap.close();
            }
        }
    }
}
