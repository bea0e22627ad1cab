package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.kvm.GsiRoute;
import org.vfio4j.core.kvm.KvmInterruptController;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.vfio.VfioModule;
import org.vfio4j.vfio.region.RegionInfo;

/** Attach/detach cycles leave nothing behind; the quirk hook; the Guice factory. */
class LifecycleAndQuirkTest {
    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;

    @AfterEach
    void detach() {
        if (dev != null) {
            dev.detach();
        }
        if (rig != null) {
            rig.close();
        }
    }

    private static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    private static long vfioThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("vfio4j-")).count();
    }

    @Test
    void attachDetachCyclesLeakNothing() throws Exception {
        rig = new PassthroughRig(tmp);
        // One warm-up cycle so lazily created JVM/JNA/Netty state is not counted as a leak.
        rig.attach().detach();
        Thread.sleep(100);
        int fds = openFds();
        long threads = vfioThreads();
        int slots = rig.kvm.deviceMemory().slotsAvailable();
        for (int i = 0; i < 25; i++) {
            VfioPciDevice d = rig.attach();
            rig.cfgWrite(0x10, 4, 0xe0000000L);
            rig.cfgWrite(0x14, 4, 0);
            rig.cfgWrite(0x18, 4, 0xc000);
            rig.cfgWrite(0x1C, 4, 0xe0010000L);
            rig.cfgWrite(0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
            rig.cfgWrite(PassthroughRig.MSI_CAP + 16, 4, 1);
            rig.cfgWrite(PassthroughRig.MSI_CAP + 2, 2, PCI_MSI_FLAGS_ENABLE);
            assertTrue(rig.kernel.raise(rig.device, VFIO_PCI_MSI_IRQ_INDEX, 0));
            for (int w = 0; w < 2000 && (rig.cfgRead(PassthroughRig.MSI_CAP + 20, 4) & 1) == 0; w++) {
                Thread.sleep(1);
            }
            assertEquals(1, rig.cfgRead(PassthroughRig.MSI_CAP + 20, 4) & 1, "masked MSI went through the worker");
            rig.cfgWrite(PassthroughRig.MSI_CAP + 2, 2, 0);
            rig.kvm.mmioBus().write(0xe0000000L + 0x200c, 4, 0);
            rig.cfgWrite(PassthroughRig.MSIX_CAP + 2, 2, PCI_MSIX_FLAGS_ENABLE);
            assertEquals(InterruptMode.MSIX, d.interruptMode());
            assertTrue(rig.kvm.deviceMemory().slotsAvailable() < slots);
            d.detach();
            assertEquals(0, rig.kernel.openFakeFds(), "cycle " + i + ": VFIO fds");
            assertEquals(0, rig.kernel.liveMmaps(), "cycle " + i + ": BAR mmaps");
            assertEquals(0, rig.kernel.liveDmaMappings(), "cycle " + i + ": DMA mappings");
            assertEquals(slots, rig.kvm.deviceMemory().slotsAvailable(), "cycle " + i + ": memslots");
            assertEquals(0, rig.kvm.mmioBus().registrations().size(), "cycle " + i + ": MMIO traps");
            assertEquals(0, rig.kvm.pioBus().registrations().size(), "cycle " + i + ": PIO traps");
            assertTrue(((KvmInterruptController) rig.kvm.interrupts()).routingTable().stream()
                    .noneMatch(r -> r instanceof GsiRoute.Msi), "cycle " + i + ": MSI routes");
            assertNull(rig.host.rootBus().function(4, 0));
            assertEquals(threads, vfioThreads(), "cycle " + i + ": detach returns after its threads ended");
        }
        assertEquals(fds, openFds(), "eventfds and mmaps of this process");
        assertEquals(26 * 2, rig.vmm.groupEvents.size(), "every KVM-VFIO add has its del");
    }

    @Test
    void detachIsIdempotentAndSlotConflictsAreRefused() {
        rig = new PassthroughRig(tmp);
        dev = rig.attach();
        var other = rig.host.rootBus();
        assertThrows(RuntimeException.class, () -> VfioPciDevice.attach(rig.vfio, rig.vmm, other,
                VfioPciOptions.builder(PassthroughRig.BDF).slot(4).build()));
        assertTrue(dev.isAttached(), "the failed second attach did not disturb the first");
        dev.detach();
        dev.detach();
        assertFalse(dev.isAttached());
    }

    /** An IGD-like quirk: emulates a register at 0xFC, adds a companion function, claims a BAR range. */
    static final class TestQuirk implements DeviceQuirk {
        final List<String> log = new ArrayList<>();
        List<RegionInfo> seenRegions;

        @Override
        public String name() {
            return "test-quirk";
        }

        @Override
        public boolean appliesTo(QuirkContext c) {
            return c.config().read(0, 2) == 0x8086;
        }

        @Override
        public AutoCloseable install(QuirkContext c) {
            seenRegions = c.regions();
            ConfigSpace cs = c.config();
            cs.setEmulated(0xFC, 4, 0xFFFFFFFFL);
            cs.setDword(0xFC, 0x7f000000);
            cs.setWritable(0xFC, 4, 0xFFFFFFFFL);
            ConfigSpace lpc = PciHeaders.type0("lpc", ConfigSpaceSize.CONVENTIONAL,
                    PciIdentity.of(0x8086, 0x7000, 0x060100, 0), 0);
            c.bus().attach(0x1f, 0, lpc);
            c.trapBarRange(5, 0x100, 0x10, new TrapHandler() {
                @Override
                public long read(long offset, int size) {
                    return 0xC0DE0000L | offset;
                }

                @Override
                public void write(long offset, int size, long value) {
                    log.add("write " + offset + "=" + value);
                }
            });
            log.add("installed at " + c.address());
            return () -> {
                c.bus().detach(0x1f, 0);
                log.add("undone");
            };
        }
    }

    @Test
    void quirkSeesVendorRegionsEmulatesRegistersAndIsUndone() {
        rig = new PassthroughRig(tmp, r -> r.device.region(9, 0x2000, PassthroughRigFlags.READ)
                .type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL, VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION));
        TestQuirk q = new TestQuirk();
        dev = rig.attach(b -> b.quirk(q));
        assertEquals(List.of("installed at 00:04.0"), q.log);
        assertTrue(q.seenRegions.stream().anyMatch(r -> r.index() == 9 && r.type().isPresent()),
                "vendor region 9 visible to the quirk");
        assertEquals(0x7f000000L, rig.cfgRead(0xFC, 4));
        rig.cfgWrite(0xFC, 4, 0x12345000L);
        assertEquals(0x12345000L, rig.cfgRead(0xFC, 4));
        assertEquals(0, rig.config.buffer().getInt(0xFC), "the emulated register never reaches the device");
        assertEquals(0x8086L, rig.host.rootBus().read(0x1f, 0, 0, 2), "companion function on the bus");
        rig.cfgWrite(0x24, 4, 0xe0016000L);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY);
        assertEquals(0xC0DE0004L, rig.kvm.mmioBus().read(0xe0016104L, 4), "claimed BAR range goes to the quirk");
        rig.kvm.mmioBus().write(0xe0016100L, 4, 9);
        assertEquals(0, rig.region(VFIO_PCI_BAR5_REGION_INDEX).buffer().getInt(0x100));
        dev.detach();
        assertEquals("undone", q.log.get(q.log.size() - 1));
        assertNull(rig.host.rootBus().function(0x1f, 0));
    }

    @Test
    void guiceFactoryBuildsDevicesFromHostAddressAndSlot() {
        rig = new PassthroughRig(tmp);
        Injector injector = Guice.createInjector(
                new VfioModule(rig.kernel, rig.sysfs.sysfs()).withPciDevices(),
                new AbstractModule() {
                    @Override
                    protected void configure() {
                        bind(Vmm.class).toInstance(rig.vmm);
                        bind(PciHostBridge.class).toInstance(rig.host);
                    }
                });
        VfioPciDeviceFactory factory = injector.getInstance(VfioPciDeviceFactory.class);
        dev = factory.create(PassthroughRig.BDF, 7);
        assertEquals(7, dev.address().device());
        assertEquals(0x8086L, rig.host.rootBus().read(7, 0, 0, 2));
    }
}
