package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;

/**
 * A guest config write (and an MSI-X table write) returns what changed and the device applies it after the
 * emulation's lock is released (issue 14): memslots, MSI routes and irqfds are never changed with the config space's
 * monitor held. Real KVM for memslots, routes and irqfds; the fake VFIO kernel for the device.
 */
class ConfigWriteEffectsTest {
    static final long BAR0 = 0xe0000000L;
    static final long BAR0_MOVED = 0xe0100000L;
    static final int PM = 0x40;
    static final int MSI = PassthroughRig.MSI_CAP;
    static final int MSIX = PassthroughRig.MSIX_CAP;

    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;

    @AfterEach
    void tearDown() {
        if (dev != null) {
            dev.detach();
        }
        if (rig != null) {
            rig.close();
        }
    }

    @Test
    void effectsRunWithoutTheConfigSpaceLock() {
        rig = new PassthroughRig(tmp, r -> r.device.modelMemoryEnable(PM));
        rig.kvm.createVcpu(0); // a LAPIC for the MSIs sent from userspace
        InterruptController kvm = rig.kvm.interrupts();
        AtomicInteger routed = new AtomicInteger();
        rig.vmm.interrupts = new InterruptController() {
            @Override
            public void signalMsi(MsiMessage message) {
                kvm.signalMsi(message);
            }

            @Override
            public MsiRoute addMsiRoute(MsiMessage message) {
                rig.vmm.noteLock("MSI route " + message);
                routed.incrementAndGet();
                return kvm.addMsiRoute(message);
            }

            @Override
            public void setIrqLine(int gsi, boolean level) {
                kvm.setIrqLine(gsi, level);
            }

            @Override
            public boolean hasKernelIrqFd() {
                return kvm.hasKernelIrqFd();
            }

            @Override
            public IrqFdBinding irqFd(EventFd trigger, int gsi, EventFd resample) {
                rig.vmm.noteLock("irqfd on GSI " + gsi);
                return kvm.irqFd(trigger, gsi, resample);
            }
        };
        dev = rig.attach();
        rig.vmm.watchedLock = dev.virtualConfig().cs;

        // BAR placement, decode on, a move, D3hot and back, decode off and on: memslots go and come.
        rig.cfgWrite(0x10, 4, BAR0);
        rig.cfgWrite(0x14, 4, 0);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        assertTrue(rig.vmm.liveSlots.get() > 0, "BAR0 is mapped");
        rig.cfgWrite(0x10, 4, BAR0_MOVED);
        rig.cfgWrite(PM + PCI_PM_CTRL, 2, 3);
        assertEquals(0, rig.vmm.liveSlots.get(), "no memslot while the device is in D3hot");
        rig.cfgWrite(PM + PCI_PM_CTRL, 2, 0);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MASTER);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        assertTrue(rig.vmm.liveSlots.get() > 0, "BAR0 is mapped again");

        // MSI: enable, mask and unmask a vector; then MSI-X through the table.
        rig.cfgWrite(MSI + 4, 4, 0xfee00000L);
        rig.cfgWrite(MSI + 12, 2, 0x40);
        rig.cfgWrite(MSI + 2, 2, PCI_MSI_FLAGS_ENABLE | 2 << 4);
        rig.cfgWrite(MSI + 16, 4, 0b10);
        rig.cfgWrite(MSI + 16, 4, 0);
        assertEquals(InterruptMode.MSI, dev.interruptMode());
        rig.cfgWrite(MSIX + 2, 2, PCI_MSIX_FLAGS_ENABLE);
        long entry = BAR0_MOVED + 0x2000 + 16L * 3;
        rig.kvm.mmioBus().write(entry, 4, 0xfee00000L);
        rig.kvm.mmioBus().write(entry + 8, 4, 0x43);
        rig.kvm.mmioBus().write(entry + 12, 4, 0);
        assertEquals(InterruptMode.MSIX, dev.interruptMode());
        assertEquals(new MsiMessage(0xfee00000L, 0x43), dev.interrupts().routedMessage(3));
        rig.cfgWrite(MSIX + 2, 2, 0);

        assertTrue(routed.get() >= 5, "MSI and MSI-X routes were made: " + routed.get());
        assertEquals(java.util.List.of(), rig.vmm.lockedEffects,
                "effects applied while the config space's lock was held");
    }
}
