package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.testing.FakeVfioDevice.MMAP;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.VcpuStop;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.vfio.uapi.VfioIoctls;

/**
 * The holes a hostile guest or failing hardware could use (issue 15), one regression test each: a real KVM VM and
 * the fake VFIO kernel, with the device modelling memory enable (command register and PM state) as vfio-pci does.
 */
class HostileGuestTest {
    static final long BAR0 = 0xe0000000L;
    static final long BAR3 = 0xe0010000L;
    static final int PM = 0x40;
    static final int MSIX = PassthroughRig.MSIX_CAP;
    static final int PCIE = PassthroughRig.PCIE_CAP;
    static final int AF = 0xC0;

    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;
    VcpuThread vcpu;

    private void setUp(Consumer<PassthroughRig> customize) {
        rig = new PassthroughRig(tmp, r -> {
            r.device.modelMemoryEnable(PM);
            customize.accept(r);
        });
        dev = rig.attach();
    }

    @AfterEach
    void tearDown() {
        if (vcpu != null) {
            vcpu.stop();
        }
        if (dev != null) {
            dev.detach();
        }
        if (rig != null) {
            rig.close();
        }
    }

    private void programBar0AndDecode() {
        rig.cfgWrite(0x10, 4, BAR0);
        rig.cfgWrite(0x14, 4, 0);
        rig.cfgWrite(0x1C, 4, BAR3);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 2000 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    private VcpuThread runGuest(String asm) {
        rig.kvm.guestMemory().write(0x1000, GuestCode.assemble32(asm, 0x1000));
        KvmVcpu v = rig.kvm.createVcpu(0);
        GuestStart.flat32(v, 0x1000, 0x7000);
        vcpu = rig.kvm.start(v);
        return vcpu;
    }

    // ------------------------------------------------------------------------------------------ 1. D3hot, decode

    @Test
    void d3hotMakesMappedBarReadAllOnesAndTheVcpuLives() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        setUp(r -> { });
        programBar0AndDecode();
        rig.kvm.pioBus().register(0xcf8, 8, rig.host.mechanism1(), "CF8/CFC");
        GuestPorts ports = GuestPorts.on(rig.kvm.pioBus());
        runGuest("""
                mov 0xe0000010, %eax
                outl %eax, $0xf0
                mov $0x80002044, %eax
                mov $0xcf8, %dx
                outl %eax, %dx
                mov $0xcfc, %dx
                mov $3, %eax
                outl %eax, %dx
                mov 0xe0000010, %eax
                outl %eax, $0xf1
                mov $0xcfc, %dx
                xor %eax, %eax
                outl %eax, %dx
                mov 0xe0000010, %eax
                outl %eax, $0xf2
                1: cli
                hlt
                jmp 1b
                """);
        assertEquals(0xB0000010L, ports.await(0xf0), "D0: BAR0 through the memslot");
        assertEquals(0xFFFFFFFFL, ports.await(0xf1), "D3hot: the BAR reads all-ones, as hardware does");
        assertEquals(0xB0000010L, ports.await(0xf2), "back in D0: the real value");
        assertFalse(vcpu.stopped().isDone(), "the vCPU is still running: " + vcpu.stopped().getNow(null));
    }

    @Test
    void memoryIsDisabledInTheDeviceOnlyWhenNoMemslotIsLeft() {
        setUp(r -> { });
        List<Integer> slotsAtDisable = new CopyOnWriteArrayList<>();
        rig.device.onMemoryDisabled = () -> slotsAtDisable.add(rig.vmm.liveSlots.get());
        programBar0AndDecode();
        assertTrue(rig.vmm.liveSlots.get() > 0, "BAR0 and BAR3 mapped");
        rig.cfgWrite(0x04, 2, 0); // decode off
        programBar0AndDecode();
        rig.cfgWrite(PM + 4, 2, 3); // D3hot
        rig.cfgWrite(PM + 4, 2, 0);
        rig.cfgWrite(PM + 4, 1, 3); // D3hot with a byte write
        assertEquals(3, slotsAtDisable.size(), "decode off, D3hot and D3hot again each disabled the device's memory");
        assertEquals(List.of(0, 0, 0), slotsAtDisable, "memslots were gone before the device stopped answering");
        assertEquals(0, rig.vmm.liveSlots.get(), "no memslot over a device in D3hot");
        assertEquals(0xFFFFFFFFL, rig.kvm.mmioBus().read(BAR0 + 0x10, 4), "trapped read of a D3hot BAR");
        rig.cfgWrite(PM + 4, 2, 0);
        assertTrue(rig.vmm.liveSlots.get() > 0, "D0 maps the BARs again");
        assertEquals(0xB0000010L, rig.kvm.mmioBus().read(BAR0 + 0x10, 4) & 0xFFFFFFFFL);
    }

    @Test
    void failedCommandWriteLeavesTheBarsTrapped() {
        setUp(r -> { });
        rig.cfgWrite(0x10, 4, BAR0);
        rig.cfgWrite(0x14, 4, 0);
        rig.config.failAccesses(Errno.EIO);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY);
        assertEquals(0, rig.vmm.liveSlots.get(), "the device may not decode: no memslot");
        assertEquals(0xFFFFFFFFL, rig.kvm.mmioBus().read(BAR0 + 0x10, 4), "the trap answers what the device does");
        rig.config.failAccesses(0);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY);
        assertTrue(rig.vmm.liveSlots.get() > 0, "a command write that reached the device maps the BAR");
    }

    // ------------------------------------------------------------------------------------ 2. straddling accesses

    @Test
    void accessesStraddlingTheMsixTableAndPbaNeverReachTheDevice() {
        setUp(r -> { });
        programBar0AndDecode();
        long r = rig.kvm.mmioBus().read(BAR0 + 0x1FFC, 8);
        assertEquals(0xB0001FFCL, r & 0xFFFFFFFFL, "the device's part");
        assertEquals(0L, r >>> 32, "the table's part comes from the emulated table (address 0), not the device");
        rig.kvm.mmioBus().write(BAR0 + 0x1FFC, 8, 0x11111111_22222222L);
        assertEquals(0xB0002000, rig.region(VFIO_PCI_BAR0_REGION_INDEX).buffer().getInt(0x2000),
                "the device never sees a write into its MSI-X table");
        assertEquals(0x11111111L, dev.virtualConfig().msix.message(0).address() & 0xFFFFFFFFL,
                "the table's part of the write went to the emulated table");
        long p = rig.kvm.mmioBus().read(BAR0 + 0x3004, 8);
        assertEquals(0L, p & 0xFFFFFFFFL, "the PBA's part");
        assertEquals(0xB0003008L, p >>> 32, "the device's part after the PBA");
    }

    // ---------------------------------------------------------------------------------------- 3. log flooding

    @Test
    void guestDrivenFailuresLogABoundedNumberOfLines() {
        setUp(r -> { });
        rig.kvm.mmioBus().register(0xd0000000L, 0x100000, new TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0;
            }

            @Override
            public void write(long offset, int size, long value) {
            }
        }, "something else");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY);
            for (int i = 0; i < 300; i++) {
                rig.cfgWrite(0x10, 4, 0xd0000000L); // over another device: not placed
                rig.cfgWrite(0x10, 4, BAR0);
            }
            rig.config.failAccesses(Errno.EIO);
            for (int i = 0; i < 300; i++) {
                rig.cfgRead(PM, 4);
                rig.cfgWrite(PM + 4, 2, 0);
            }
        } finally {
            System.setErr(err);
            rig.config.failAccesses(0);
        }
        // Log records (slf4j-simple starts each with "[thread]"); a stack trace's lines belong to its record.
        List<String> records = captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("["))
                .toList();
        assertTrue(records.size() <= 40, "900 failing guest accesses logged " + records.size() + " records:\n"
                + String.join("\n", records.subList(0, Math.min(40, records.size()))));
        assertTrue(dev.suppressedLogLines() >= 800, "suppressed lines are counted: " + dev.suppressedLogLines());
    }

    // ----------------------------------------------------------------------------------- 5. Error during attach

    @Test
    void attachAndDetachReleaseEverythingWhenAStepThrowsAnError() {
        setUp(r -> { });
        dev.detach();
        dev = null;
        rig.faults.disarm();
        VfioPciDevice probe = rig.attach();
        long calls = rig.faults.calls();
        probe.detach();
        assertTrue(calls > 20, "attach makes " + calls + " calls");
        for (long k = 1; k <= calls; k += Math.max(1, calls / 9)) {
            rig.faults.armError(k, () -> new OutOfMemoryError("injected"));
            long kk = k;
            Error e = assertThrows(OutOfMemoryError.class, rig::attach, "call " + kk);
            rig.faults.disarm();
            assertNothingLeft("attach failing at call " + k + " with " + e);
        }
        VfioPciDevice d = rig.attach();
        rig.faults.armError(1, () -> new OutOfMemoryError("injected"));
        assertThrows(OutOfMemoryError.class, d::detach);
        rig.faults.disarm();
        assertNothingLeft("detach whose first call threw an Error");
        dev = rig.attach();
    }

    @Test
    void detachDuringAReqReleaseReturnsWhenEverythingIsReleased() {
        setUp(r -> { });
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_REQ_IRQ_INDEX, 0)); // releases on a thread of its own
        for (int i = 0; i < 1_000_000 && dev.isAttached(); i++) {
            Thread.onSpinWait();
        }
        dev.detach(); // found by PassthroughFuzzTest: returned while the REQ release was still closing fds
        dev = null;
        assertNothingLeft("detach after a REQ release");
    }

    private void assertNothingLeft(String when) {
        assertEquals(0, rig.kernel.openFakeFds(), when + ": fds");
        assertEquals(0, rig.kernel.liveMmaps(), when + ": mmaps");
        assertEquals(0, rig.kernel.liveDmaMappings(), when + ": DMA mappings");
        assertEquals(0, rig.kernel.droppedDmaMappings(), when + ": DMA mappings dropped by the kernel");
        assertEquals(0, rig.vmm.liveSlots.get(), when + ": memslots");
        assertEquals(0, rig.kvm.mmioBus().registrations().size(), when + ": MMIO traps");
        assertEquals(0, rig.kvm.pioBus().registrations().size(), when + ": PIO traps");
        long adds = rig.vmm.groupEvents.stream().filter(s -> s.startsWith("add")).count();
        long dels = rig.vmm.groupEvents.stream().filter(s -> s.startsWith("del")).count();
        assertEquals(adds, dels, when + ": KVM-VFIO registrations " + rig.vmm.groupEvents);
        assertEquals(0, rig.host.rootBus().function(4, 0) == null ? 0 : 1, when + ": guest bus slot");
    }

    // ------------------------------------------------------------------------------------ 6. quiesce on detach

    @Test
    void detachStopsInterruptsAndBusMasteringBeforeUnmappingGuestRam() {
        setUp(r -> { });
        programBar0AndDecode();
        rig.cfgWrite(MSIX + 2, 2, 0x8000);
        List<String> atUnmap = new CopyOnWriteArrayList<>();
        rig.faults.ioctlFault((fd, request, arg) -> {
            if (request == VfioIoctls.VFIO_IOMMU_UNMAP_DMA.number()) {
                int command = rig.config.buffer().getShort(0x04) & 0xFFFF;
                atUnmap.add(String.format("master=%d msix=%d intx=%d", command >> 2 & 1,
                        rig.device.triggers(VFIO_PCI_MSIX_IRQ_INDEX).length,
                        rig.device.triggers(VFIO_PCI_INTX_IRQ_INDEX).length));
            }
            return 0;
        });
        assertEquals(1, rig.config.buffer().getShort(0x04) >> 2 & 1, "the guest turned bus mastering on");
        dev.detach();
        dev = null;
        assertFalse(atUnmap.isEmpty());
        for (String s : atUnmap) {
            assertEquals("master=0 msix=0 intx=0", s, "state of the device when guest RAM left its IOMMU");
        }
    }

    // ---------------------------------------------------------------------------------------- 7. ERR stops

    @Test
    void uncorrectableErrorStopsTheGuestByDefault() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        setUp(r -> { });
        dev.detach();
        rig.vmm.events = rig.kvm.deviceEvents(); // the VMM's default
        dev = rig.attach();
        runGuest("""
                1: hlt
                jmp 1b
                """);
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_ERR_IRQ_INDEX, 0));
        VcpuStop stop = vcpu.stopped().get(20, TimeUnit.SECONDS);
        assertEquals(VcpuStop.Cause.REQUESTED, stop.cause(), "the VMM stopped the guest: " + stop);
    }

    @Test
    void aVmmCanChooseToKeepRunningAfterAnError() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        setUp(r -> { });
        dev.detach();
        rig.kvm.setDeviceEvents(DeviceEvents.RELEASE_AT_ONCE); // the VMM's choice
        rig.vmm.events = rig.kvm.deviceEvents();
        dev = rig.attach();
        runGuest("""
                1: hlt
                jmp 1b
                """);
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_ERR_IRQ_INDEX, 0));
        await(() -> dev.counters().errors() == 1, "the error was seen");
        assertFalse(vcpu.stopped().isDone(), "ignoring errors was chosen");
    }

    // -------------------------------------------------------------------------------------------- 8. lazy MSI-X

    private void unmaskMsix(int vector, long address, int data) {
        long e = BAR0 + 0x2000 + 16L * vector;
        rig.kvm.mmioBus().write(e, 4, address);
        rig.kvm.mmioBus().write(e + 4, 4, 0);
        rig.kvm.mmioBus().write(e + 8, 4, data);
        rig.kvm.mmioBus().write(e + 12, 4, 0);
    }

    @Test
    void enablingMsixHandsVfioOnlyTheVectorsUpToTheHighestUnmasked() {
        setUp(r -> { });
        programBar0AndDecode();
        rig.cfgWrite(MSIX + 2, 2, 0x8000);
        assertEquals(InterruptMode.MSIX, dev.interruptMode());
        assertTrue(rig.device.enabledVectors(VFIO_PCI_MSIX_IRQ_INDEX) <= 1,
                "all masked: " + rig.device.enabledVectors(VFIO_PCI_MSIX_IRQ_INDEX) + " host vectors");
        unmaskMsix(2, 0xfee00000L, 0x32);
        assertEquals(3, rig.device.enabledVectors(VFIO_PCI_MSIX_IRQ_INDEX), "vectors 0..2");
        assertEquals(new MsiMessage(0xfee00000L, 0x32), dev.interrupts().routedMessage(2));
        unmaskMsix(1, 0xfee00000L, 0x31);
        assertEquals(3, rig.device.enabledVectors(VFIO_PCI_MSIX_IRQ_INDEX), "no more for a lower vector");
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSIX_IRQ_INDEX, 2), "vector 2 has its eventfd");
    }

    @Test
    void msixEnableFailingWithEnospcDoesNotFallBackToIntx() {
        setUp(r -> { });
        programBar0AndDecode();
        rig.faults.ioctlFault((fd, request, arg) -> request == VfioIoctls.VFIO_DEVICE_SET_IRQS.number()
                && arg.getInt(8) == VFIO_PCI_MSIX_IRQ_INDEX && arg.getInt(16) > 0 ? Errno.ENOSPC : 0);
        rig.cfgWrite(MSIX + 2, 2, 0x8000);
        unmaskMsix(0, 0xfee00000L, 0x30);
        assertEquals(InterruptMode.MSIX, dev.interruptMode(), "the guest enabled MSI-X; INTx would be a lie");
        assertEquals(0, rig.device.triggers(VFIO_PCI_INTX_IRQ_INDEX).length, "INTx not enabled behind its back");
        assertTrue(dev.counters().interruptSetupFailures() > 0, "the failure is counted");
        rig.faults.ioctlFault(null);
        unmaskMsix(1, 0xfee00000L, 0x31);
        assertEquals(2, rig.device.enabledVectors(VFIO_PCI_MSIX_IRQ_INDEX), "a later unmask tries again");
    }

    // ---------------------------------------------------------------------------------------- 9. MSI-X race

    @Test
    void aLateMsixUpdateEventLeavesTheRouteAtTheTableValue() {
        setUp(r -> { });
        programBar0AndDecode();
        rig.cfgWrite(MSIX + 2, 2, 0x8000);
        unmaskMsix(0, 0xfee00000L, 0x41);
        MsiMessage older = new MsiMessage(0xfee00000L, 0x41);
        rig.kvm.mmioBus().write(BAR0 + 0x2000 + 8, 4, 0x42); // a second vCPU's newer value
        // The first vCPU's event, carrying the value it wrote, arrives after the second's.
        dev.interrupts().msixVectorChanged(0);
        assertEquals(dev.virtualConfig().msix.message(0), dev.interrupts().routedMessage(0),
                "the route follows the table, whatever order the events arrive in");
    }

    // ------------------------------------------------------------------------------------------------ 10. also

    @Test
    void guestFlrMasksEveryMsixVector() {
        setUp(r -> r.config.buffer().putInt(PCIE + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR));
        programBar0AndDecode();
        rig.cfgWrite(MSIX + 2, 2, 0x8000);
        unmaskMsix(0, 0xfee00000L, 0x30);
        assertFalse(dev.virtualConfig().msix.isVectorMasked(0));
        rig.cfgWrite(PCIE + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
        for (int v = 0; v < 8; v++) {
            assertTrue(dev.virtualConfig().msix.isVectorMasked(v), "vector " + v + " masked after FLR");
            assertEquals(new MsiMessage(0, 0), dev.virtualConfig().msix.message(v), "entry " + v + " cleared");
        }
    }

    @Test
    void flrThroughTheAfCapabilityIsInterceptedLikeThePcieOne() {
        setUp(r -> {
            r.config.buffer().put(PCIE + 1, (byte) AF);
            r.config.buffer().put(AF, (byte) 0x13).put(AF + 1, (byte) 0).put(AF + 2, (byte) 6).put(AF + 3, (byte) 3);
        });
        programBar0AndDecode();
        int resets = rig.device.resets();
        rig.cfgWrite(AF + 4, 1, 1);
        assertEquals(resets + 1, rig.device.resets(), "the VMM ran the reset");
        assertEquals(0, rig.config.buffer().get(AF + 4) & 1, "the initiate bit never reached the device");
        assertEquals(0, rig.cfgRead(0x04, 2) & PCI_COMMAND_MEMORY, "guest state back to power-on values");
    }

    @Test
    void aBarWithoutWriteAccessIsMappedReadOnly() {
        setUp(r -> r.device.region(VFIO_PCI_BAR3_REGION_INDEX, 0x4000, READ | MMAP).sparseMmap(0, 0x1000, 0x2000,
                0x2000));
        programBar0AndDecode();
        assertEquals(2, rig.vmm.readOnlySlots.get(), "BAR3's two sparse areas");
        assertTrue(rig.vmm.liveSlots.get() > 2, "BAR0 stays writable");
    }
}
