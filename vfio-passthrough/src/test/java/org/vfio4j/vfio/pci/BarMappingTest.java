package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.pci.config.PciRegisters.*;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.vfio.pci.BarLayout.Range;

/** BAR planning, mapping, trapping, moves and decode toggles, against real KVM memslots and trap buses. */
class BarMappingTest {
    static final long BAR0 = 0xe0000000L;
    static final long BAR3 = 0xe0010000L;
    static final long BAR4 = 0xe0014000L;
    static final long BAR5 = 0xe0016000L;
    static final long ROM = 0xe0020000L;
    static final int IO = 0xc000;

    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;

    @BeforeEach
    void attach() {
        rig = new PassthroughRig(tmp);
        dev = rig.attach();
    }

    @AfterEach
    void detach() {
        if (dev != null) {
            dev.detach();
        }
        rig.close();
    }

    private void programBars() {
        rig.cfgWrite(0x10, 4, BAR0);
        rig.cfgWrite(0x14, 4, 0);
        rig.cfgWrite(0x18, 4, IO);
        rig.cfgWrite(0x1C, 4, BAR3);
        rig.cfgWrite(0x20, 4, BAR4);
        rig.cfgWrite(0x24, 4, BAR5);
        rig.cfgWrite(0x30, 4, ROM | PCI_ROM_ADDRESS_ENABLE);
    }

    private void decode(boolean on) {
        rig.cfgWrite(0x04, 2, on ? PCI_COMMAND_IO | PCI_COMMAND_MEMORY : 0);
    }

    private TrapBus mmio() {
        return rig.kvm.mmioBus();
    }

    @Test
    void planFollowsEveryCaseOfTheIssue() {
        VfioPciCounters c = dev.counters();
        assertEquals(List.of(new Range(0, 0x2000, "mmap"), new Range(0x4000, 0xc000, "mmap")), c.bar(0).mapped(),
                "MSI-X-mappable BAR0: everything but the table and PBA pages");
        assertEquals(List.of(new Range(0x2000, 0x1000, "MSI-X table"), new Range(0x3000, 0x1000, "MSI-X PBA")),
                c.bar(0).trapped());
        assertEquals(List.of(), c.bar(2).mapped(), "I/O BAR");
        assertEquals(List.of(new Range(0, 0x20, "I/O BAR")), c.bar(2).trapped());
        assertEquals(List.of(new Range(0, 0x1000, "mmap"), new Range(0x2000, 0x2000, "mmap")), c.bar(3).mapped(),
                "sparse areas only");
        assertEquals(List.of(new Range(0x1000, 0x1000, "sparse gap")), c.bar(3).trapped());
        assertEquals(List.of(new Range(0, 0x100, "sub-page BAR")), c.bar(4).trapped());
        assertEquals(List.of(new Range(0, 0x2000, "no mmap")), c.bar(5).trapped());
        assertEquals(0x10000, c.bar(6).trappedBytes(), "ROM is read through pread");
        assertEquals(4, rig.kernel.liveMmaps(), "host mmaps: two for BAR0, two for BAR3");
    }

    @Test
    void decodeMapsAndUnmapsMemslotsAndTraps() {
        int before = rig.kvm.deviceMemory().slotsAvailable();
        programBars();
        assertEquals(before, rig.kvm.deviceMemory().slotsAvailable(), "no memslot while decode is off");
        assertEquals(0, mmio().registrations().size());
        decode(true);
        assertEquals(before - 4, rig.kvm.deviceMemory().slotsAvailable(), "one memslot per mapped range");
        assertEquals(5, mmio().registrations().size(), "BAR0, BAR3, BAR4, BAR5, ROM trap their unmapped parts");
        assertEquals(1, rig.kvm.pioBus().registrations().stream().filter(r -> r.base() == IO).count());
        assertTrue(dev.counters().bar(0).decoding());
        assertEquals(BAR0, dev.counters().bar(0).guestAddress());
        decode(false);
        assertEquals(before, rig.kvm.deviceMemory().slotsAvailable());
        assertEquals(0, mmio().registrations().size());
        assertEquals(0xFFFFFFFFL, mmio().read(BAR5, 4), "nothing decodes: all-ones");
    }

    @Test
    void trappedAccessesReachTheDeviceAtExactlyTheAccessSize() {
        rig.region(VFIO_PCI_BAR5_REGION_INDEX).buffer().putInt(4, 0x5555AAAA);
        programBars();
        decode(true);
        assertEquals(0x5555AAAAL, mmio().read(BAR5 + 4, 4));
        assertEquals(0xAAL, mmio().read(BAR5 + 4, 1));
        mmio().write(BAR5 + 5, 1, 0x11);
        assertEquals(0x555511AA, rig.region(VFIO_PCI_BAR5_REGION_INDEX).buffer().getInt(4),
                "a byte write changes one byte");
        rig.region(VFIO_PCI_BAR2_REGION_INDEX).buffer().putShort(8, (short) 0x1234);
        assertEquals(0x1234L, rig.kvm.pioBus().read(IO + 8, 2), "I/O BAR forwarded");
        rig.kvm.pioBus().write(IO + 0x10, 4, 0xCAFEF00DL);
        assertEquals(0xCAFEF00D, rig.region(VFIO_PCI_BAR2_REGION_INDEX).buffer().getInt(0x10));
        assertEquals(0xAA55L, mmio().read(ROM, 2), "ROM signature through the ROM BAR");
        mmio().write(ROM, 2, 0);
        assertEquals(0xAA55L, mmio().read(ROM, 2), "ROM writes are dropped");
        assertEquals(0xB0003008L, mmio().read(BAR0 + 0x3008, 4), "PBA page outside the PBA reaches the device");
        assertTrue(dev.counters().bar(5).trappedReads() >= 2);
        assertEquals(1, dev.counters().bar(5).trappedWrites());
    }

    @Test
    void msixTableIsEmulatedAndNeverReachesTheDevice() {
        programBars();
        decode(true);
        assertEquals(1L, mmio().read(BAR0 + 0x200c, 4), "vector 0 starts masked");
        mmio().write(BAR0 + 0x2000, 4, 0xfee00000L);
        mmio().write(BAR0 + 0x2008, 4, 0x41);
        assertEquals(0xfee00000L, mmio().read(BAR0 + 0x2000, 4));
        assertEquals(0x41L, mmio().read(BAR0 + 0x2008, 4));
        assertEquals(0xB0002000, rig.region(VFIO_PCI_BAR0_REGION_INDEX).buffer().getInt(0x2000),
                "the device's table is untouched");
        assertEquals(0xFFFFL, mmio().read(BAR0 + 0x2001, 2), "misaligned table access: all-ones");
    }

    @Test
    void moveRemovesOldSlotsBeforeMovingTheTrapAndMapsNewOnesAfter() {
        programBars();
        decode(true);
        rig.vmm.slotEvents.clear();
        TrapBus.Registration bar3 = mmio().registrations().stream().filter(r -> r.base() == BAR3).findFirst()
                .orElseThrow();
        long moved = 0xe0040000L;
        rig.cfgWrite(0x1C, 4, moved);
        assertEquals(moved, bar3.base(), "the same registration moved");
        assertEquals(moved, dev.counters().bar(3).guestAddress());
        assertEquals(List.of(
                String.format("unmap 0x%x trap 0x%x", BAR3, BAR3),
                String.format("unmap 0x%x trap 0x%x", BAR3 + 0x2000, BAR3),
                String.format("map 0x%x trap 0x%x", moved, moved),
                String.format("map 0x%x trap 0x%x", moved + 0x2000, moved)), rig.vmm.slotEvents,
                "old slots leave while the old trap still covers them; new ones come after the trap moved");
        assertEquals(0xFFFFFFFFL, mmio().read(BAR3 + 0x1000, 4), "old place decodes nothing");
        rig.region(VFIO_PCI_BAR3_REGION_INDEX).buffer().putInt(0x1000, 0x33);
        assertEquals(0x33L, mmio().read(moved + 0x1000, 4), "sparse gap traps at the new place");
    }

    @Test
    void barOverlappingAnotherTrapStaysOffInsteadOfFailingTheVcpu() {
        rig.kvm.mmioBus().register(0xd0000000L, 0x1000, new org.vfio4j.core.bus.TrapHandler() {
            @Override
            public long read(long offset, int size) {
                return 0x77;
            }

            @Override
            public void write(long offset, int size, long value) {
            }
        }, "other device");
        rig.cfgWrite(0x24, 4, 0xd0000000L);
        decode(true);
        assertFalse(dev.counters().bar(5).decoding());
        assertEquals(0x77L, mmio().read(0xd0000000L, 4), "the other device keeps its range");
    }

    @Test
    void tableNotPageAlignedTakesItsWholePageAndTheRestOfThePageReachesTheDevice() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("unaligned"));
        dev.detach();
        dev = null;
        rig.close();
        rig = new PassthroughRig(tmp.resolve("unaligned"), r -> r.config.buffer().putInt(PassthroughRig.MSIX_CAP + 4, 0x2800)
                .putInt(PassthroughRig.MSIX_CAP + 8, 0x3800));
        dev = rig.attach();
        assertEquals(List.of(new Range(0, 0x2000, "mmap"), new Range(0x4000, 0xc000, "mmap")),
                dev.counters().bar(0).mapped());
        assertEquals(List.of(new Range(0x2000, 0x1000, "MSI-X table"), new Range(0x3000, 0x1000, "MSI-X PBA")),
                dev.counters().bar(0).trapped());
        programBars();
        decode(true);
        assertEquals(0xB0002000L, mmio().read(BAR0 + 0x2000, 4), "below the table: the device, by pread");
        assertEquals(1L, mmio().read(BAR0 + 0x280c, 4), "the table itself: emulated (vector 0 masked)");
        assertEquals(0xB00027fcL, mmio().read(BAR0 + 0x27fc, 4));
    }

    @Test
    void mmapDisabledTrapsEverything() {
        dev.detach();
        dev = rig.attach(b -> b.mmapBars(false));
        assertEquals(List.of(), dev.counters().bar(0).mapped());
        assertEquals(0, rig.kernel.liveMmaps());
        assertEquals(0x10000, dev.counters().bar(0).trappedBytes());
    }

    @Test
    void guestReadsMappedBarWithoutAnExitAndTrappedBarWithOne() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        rig.region(VFIO_PCI_BAR5_REGION_INDEX).buffer().putInt(4, 0x5555AAAA);
        programBars();
        decode(true);
        GuestPorts ports = GuestPorts.on(rig.kvm.pioBus());
        rig.kvm.guestMemory().write(0x1000, GuestCode.assemble32("""
                mov 0xe0000010, %eax
                outl %eax, $0xf0
                mov 0xe0016004, %eax
                outl %eax, $0xf2
                1: cli
                hlt
                jmp 1b
                """, 0x1000));
        KvmVcpu vcpu = rig.kvm.createVcpu(0);
        GuestStart.flat32(vcpu, 0x1000, 0x7000);
        VcpuThread t = rig.kvm.start(vcpu);
        assertEquals(0xB0000010L, ports.await(0xf0), "BAR0 content through the memslot");
        assertEquals(0x5555AAAAL, ports.await(0xf2), "BAR5 through the trap");
        assertEquals(1, t.exitCount(KvmAbi.Exit.MMIO), "only the trapped BAR5 read left the guest");
        assertEquals(1, dev.counters().bar(5).trappedReads());
        assertEquals(0, dev.counters().bar(0).trappedReads());
    }
}
