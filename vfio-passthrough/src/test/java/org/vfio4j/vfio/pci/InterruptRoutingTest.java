package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.concurrent.CopyOnWriteArrayList;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.kvm.GsiRoute;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmInterruptController;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.testing.GuestCode;

/** INTx, MSI, MSI-X, ERR and REQ routing: fake VFIO kernel for the device, real KVM for routes and irqfds. */
class InterruptRoutingTest {
    static final long BAR0 = 0xe0000000L;
    static final int MSI = PassthroughRig.MSI_CAP;
    static final int MSIX = PassthroughRig.MSIX_CAP;

    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;

    @BeforeEach
    void attach() {
        rig = new PassthroughRig(tmp);
    }

    @AfterEach
    void detach() {
        if (dev != null) {
            dev.detach();
        }
        rig.close();
    }

    private List<GsiRoute> msiRoutes() {
        return ((KvmInterruptController) rig.kvm.interrupts()).routingTable().stream()
                .filter(r -> r instanceof GsiRoute.Msi).toList();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 2000 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    @Test
    void intxIsWiredAtAttachWithResample() {
        dev = rig.attach();
        assertEquals(InterruptMode.INTX, dev.interruptMode());
        assertTrue(rig.device.triggers(VFIO_PCI_INTX_IRQ_INDEX)[0] >= 0, "trigger eventfd given to VFIO");
        assertTrue(rig.device.unmaskFd(VFIO_PCI_INTX_IRQ_INDEX) >= 0, "resample eventfd unmasks INTx");
        assertEquals(1, dev.counters().kernelRoutedVectors(), "bound by a KVM resample irqfd");
    }

    @Test
    void intxFallsBackToTheEventLoopWhenTheControllerCannotBindIt() throws Exception {
        InterruptController kvmIc = rig.kvm.interrupts();
        List<String> lines = new CopyOnWriteArrayList<>();
        rig.vmm.interrupts = new InterruptController() {
            @Override
            public void signalMsi(MsiMessage message) {
                kvmIc.signalMsi(message);
            }

            @Override
            public MsiRoute addMsiRoute(MsiMessage message) {
                return kvmIc.addMsiRoute(message);
            }

            @Override
            public void setIrqLine(int gsi, boolean level) {
                lines.add(gsi + "=" + level);
            }

            @Override
            public boolean hasKernelIrqFd() {
                return false;
            }

            @Override
            public IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample) {
                throw new UnsupportedOperationException("no irqfd in this VMM");
            }
        };
        dev = rig.attach(b -> b.intxGsi(10));
        assertEquals(InterruptMode.INTX, dev.interruptMode());
        assertEquals(0, dev.counters().kernelRoutedVectors());
        int resample = rig.device.unmaskFd(VFIO_PCI_INTX_IRQ_INDEX);
        assertTrue(resample >= 0, "VFIO unmasks INTx on a resample eventfd, signalled by the loop");
        assertEquals(10L, rig.cfgRead(0x3C, 1), "line register shows the configured GSI");
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_INTX_IRQ_INDEX, 0));
        await(() -> lines.size() == 2, "the loop pulsed the line");
        assertEquals(List.of("10=true", "10=false"), lines);
        long[] signals = {0};
        com.sun.jna.Memory counter = new com.sun.jna.Memory(8);
        await(() -> {
            if (rig.kernel.read(resample, counter, 8) == 8) {
                signals[0] += counter.getLong(0);
            }
            return signals[0] == 1;
        }, "and signalled the resample eventfd, on which VFIO unmasks INTx");
        assertEquals(1L, dev.counters().userspaceInterrupts(UserspaceDelivery.INTX));
    }

    @Test
    void withoutKernelIrqfdsMsiIsDeliveredFromTheEventLoop() throws Exception {
        InterruptController kvmIc = rig.kvm.interrupts();
        List<MsiMessage> sent = new CopyOnWriteArrayList<>();
        rig.vmm.interrupts = new InterruptController() {
            @Override
            public void signalMsi(MsiMessage message) {
                sent.add(message);
            }

            @Override
            public MsiRoute addMsiRoute(MsiMessage message) {
                throw new AssertionError("no route is needed without kernel irqfds");
            }

            @Override
            public void setIrqLine(int gsi, boolean level) {
                kvmIc.setIrqLine(gsi, level);
            }

            @Override
            public boolean hasKernelIrqFd() {
                return false;
            }

            @Override
            public IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample) {
                throw new UnsupportedOperationException("no irqfd in this VMM");
            }
        };
        dev = rig.attach();
        rig.cfgWrite(MSI + 4, 4, 0xfee00000L);
        rig.cfgWrite(MSI + 8, 4, 0);
        rig.cfgWrite(MSI + 12, 2, 0x40);
        rig.cfgWrite(MSI + 16, 4, 0b0010);
        rig.cfgWrite(MSI + 2, 2, PCI_MSI_FLAGS_ENABLE | 1 << 4);
        assertEquals(InterruptMode.MSI, dev.interruptMode(), "MSI without irqfds, not a fallback to INTx");
        assertEquals(2, rig.device.enabledVectors(VFIO_PCI_MSI_IRQ_INDEX), "the two vectors the guest enabled");
        assertEquals(0, dev.counters().kernelRoutedVectors());
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSI_IRQ_INDEX, 0));
        await(() -> sent.size() == 1, "the loop sent vector 0's message");
        assertEquals(new MsiMessage(0xfee00000L, 0x40), sent.get(0));
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSI_IRQ_INDEX, 1));
        await(() -> (rig.cfgRead(MSI + 20, 4) & 0b0010) != 0, "masked vector 1 sets its pending bit");
        rig.cfgWrite(MSI + 16, 4, 0);
        assertEquals(List.of(new MsiMessage(0xfee00000L, 0x40), new MsiMessage(0xfee00000L, 0x41)), sent,
                "unmasking vector 1 sent its pending message");
        assertEquals(2L, dev.counters().userspaceInterrupts(UserspaceDelivery.MSI));
        assertEquals(1L, dev.counters().userspaceInterrupts(UserspaceDelivery.MSI_PENDING));
    }

    @Test
    void msiReplacesIntxAndFollowsMaskBits() throws Exception {
        rig.kvm.createVcpu(0); // a LAPIC for KVM_SIGNAL_MSI to deliver to
        dev = rig.attach();
        rig.cfgWrite(MSI + 4, 4, 0xfee00000L);
        rig.cfgWrite(MSI + 8, 4, 0);
        rig.cfgWrite(MSI + 12, 2, 0x40);
        rig.cfgWrite(MSI + 2, 2, PCI_MSI_FLAGS_ENABLE | 2 << 4);
        assertEquals(InterruptMode.MSI, dev.interruptMode());
        assertEquals(0, rig.device.triggers(VFIO_PCI_INTX_IRQ_INDEX).length, "INTx disabled in VFIO before MSI");
        int[] t = rig.device.triggers(VFIO_PCI_MSI_IRQ_INDEX);
        assertEquals(4, t.length);
        for (int fd : t) {
            assertTrue(fd >= 0);
        }
        List<GsiRoute> routes = msiRoutes();
        assertEquals(4, routes.size());
        for (int v = 0; v < 4; v++) {
            GsiRoute.Msi r = (GsiRoute.Msi) routes.get(v);
            assertEquals(0xfee00000L, r.address());
            assertEquals(0x40 | v, r.data(), "vector number in the low data bits");
        }
        assertEquals(4, dev.counters().kernelRoutedVectors());
        rig.cfgWrite(MSI + 16, 4, 0b0010);
        assertEquals(3, dev.counters().kernelRoutedVectors(), "masked vector 1 lost its irqfd");
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSI_IRQ_INDEX, 1));
        await(() -> (rig.cfgRead(MSI + 20, 4) & 0b0010) != 0, "masked vector sets its pending bit");
        assertEquals(1L, dev.counters().userspaceInterrupts(UserspaceDelivery.MSI_PENDING));
        rig.cfgWrite(MSI + 16, 4, 0);
        assertEquals(0L, rig.cfgRead(MSI + 20, 4), "unmask sends the pending message");
        assertEquals(1L, dev.counters().userspaceInterrupts(UserspaceDelivery.MSI));
        assertEquals(4, dev.counters().kernelRoutedVectors());
        rig.cfgWrite(MSI + 2, 2, 0);
        assertEquals(InterruptMode.INTX, dev.interruptMode(), "disabling MSI returns to INTx");
        assertEquals(0, rig.device.triggers(VFIO_PCI_MSI_IRQ_INDEX).length);
        assertTrue(msiRoutes().isEmpty(), "MSI routes freed");
    }

    static final String LAPIC_GUEST = """
            lgdt gdtr
            ljmp $0x08, $1f
            1: mov $0x10, %ax
            mov %ax, %ds
            mov %ax, %es
            mov %ax, %ss
            mov $0x7000, %esp
            mov $handler, %eax
            mov $0x3000 + 0x40 * 8, %edi
            movw %ax, (%edi)
            movw $0x08, 2(%edi)
            movw $0x8e00, 4(%edi)
            shr $16, %eax
            movw %ax, 6(%edi)
            lidt idtr
            movl $0x1ff, 0xfee000f0
            movl $0, 0x500
            out %al, $0xf1
            2: sti
            hlt
            jmp 2b
            handler:
            incl 0x500
            mov 0x500, %eax
            outl %eax, $0xf4
            movl $0, 0xfee000b0
            add $12, %esp
            jmp 2b
            .align 8
            gdt: .quad 0
            .quad 0x00cf9b000000ffff
            .quad 0x00cf93000000ffff
            gdtr: .word 23
            .long gdt
            idtr: .word 0x40 * 8 + 7
            .long 0x3000
            """;

    @Test
    void msixVectorReachesTheGuestByIrqfdAndByPendingBitWhenMasked() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        dev = rig.attach();
        GuestPorts ports = GuestPorts.on(rig.kvm.pioBus());
        rig.kvm.guestMemory().write(0x1000, GuestCode.assemble32(LAPIC_GUEST, 0x1000));
        KvmVcpu vcpu = rig.kvm.createVcpu(0);
        GuestStart.flat32(vcpu, 0x1000, 0x7000);
        rig.kvm.start(vcpu);
        ports.await(0xf1);

        rig.cfgWrite(0x10, 4, BAR0);
        rig.cfgWrite(0x14, 4, 0);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        rig.kvm.mmioBus().write(BAR0 + 0x2000, 4, 0xfee00000L);
        rig.kvm.mmioBus().write(BAR0 + 0x2004, 4, 0);
        rig.kvm.mmioBus().write(BAR0 + 0x2008, 4, 0x40);
        rig.cfgWrite(MSIX + 2, 2, PCI_MSIX_FLAGS_ENABLE);
        assertEquals(InterruptMode.MSIX, dev.interruptMode());
        assertEquals(0, rig.device.triggers(VFIO_PCI_INTX_IRQ_INDEX).length, "INTx torn down first");
        assertEquals(8, rig.device.triggers(VFIO_PCI_MSIX_IRQ_INDEX).length);
        assertEquals(0, dev.counters().kernelRoutedVectors(), "every vector starts masked: no route yet");
        assertTrue(msiRoutes().isEmpty());

        rig.kvm.mmioBus().write(BAR0 + 0x200c, 4, 0);
        assertEquals(1, dev.counters().kernelRoutedVectors(), "unmasking vector 0 gave it a route and irqfd");
        assertEquals(1, msiRoutes().size());
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSIX_IRQ_INDEX, 0));
        assertEquals(1L, ports.await(0xf4), "device interrupt reached the guest handler through the irqfd");

        rig.kvm.mmioBus().write(BAR0 + 0x200c, 4, 1);
        assertEquals(0, dev.counters().kernelRoutedVectors());
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSIX_IRQ_INDEX, 0));
        await(() -> rig.kvm.mmioBus().read(BAR0 + 0x3000, 8) == 1, "masked vector sets its PBA bit");
        assertEquals(1L, dev.counters().userspaceInterrupts(UserspaceDelivery.MSIX_PENDING));
        rig.kvm.mmioBus().write(BAR0 + 0x200c, 4, 0);
        assertEquals(2L, ports.await(0xf4), "unmasking delivered the pending interrupt");
        assertEquals(0L, rig.kvm.mmioBus().read(BAR0 + 0x3000, 8), "PBA bit cleared");
        assertEquals(1L, dev.counters().userspaceInterrupts(UserspaceDelivery.MSIX));

        rig.cfgWrite(MSIX + 2, 2, 0);
        assertEquals(InterruptMode.INTX, dev.interruptMode());
        assertEquals(0, rig.device.triggers(VFIO_PCI_MSIX_IRQ_INDEX).length);
        assertTrue(msiRoutes().isEmpty());
    }

    @Test
    void errIsReportedAndReqUnplugsThenReleases() throws Exception {
        CountDownLatch error = new CountDownLatch(1);
        CountDownLatch unplug = new CountDownLatch(1);
        rig.vmm.events = new DeviceEvents() {
            @Override
            public void unplugRequested(String device, Runnable release) {
                unplug.countDown();
                release.run();
            }

            @Override
            public void deviceError(String device, String detail) {
                error.countDown();
            }
        };
        dev = rig.attach();
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_ERR_IRQ_INDEX, 0));
        assertTrue(error.await(20, TimeUnit.SECONDS));
        assertEquals(1, dev.counters().errors());
        int fdsBefore = rig.kernel.openFakeFds();
        assertTrue(fdsBefore > 0);
        assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_REQ_IRQ_INDEX, 0));
        assertTrue(unplug.await(20, TimeUnit.SECONDS));
        await(() -> !dev.isAttached() && rig.kernel.openFakeFds() == 0, "REQ released the device");
        assertNull(rig.host.rootBus().function(4, 0), "gone from the guest bus");
    }
}
