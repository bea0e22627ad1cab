package org.vfio4j.vfio.igd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.memory.E820Entry;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.memory.ReservedRange;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.pci.VfioPciDevice;

/**
 * IGD assignment end to end on the host: a simulated IGD (fake VFIO kernel, uAPI-faithful regions) attached through
 * {@link VfioPciDevice} with {@link IgdQuirk} to a real KVM VM, checked through what the guest sees: config reads
 * through the host bridge, guest RAM, and the memory map the VMM would hand the guest.
 */
class IgdAttachTest {
    private static final long MIB = 1L << 20;
    @TempDir
    Path tmp;
    IgdRig rig;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private long asls() {
        return rig.cfgRead(2, 0, IgdGeneration.ASLS, 4);
    }

    @Test
    void guestSeesTheOpRegionCopyAtAslsInReservedRam() {
        rig = new IgdRig(tmp);
        byte[] host = rig.region(9).contents().clone();
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            long gpa = asls();
            assertTrue(gpa != 0 && gpa != IgdRig.HOST_ASLS, "ASLS is the copy's guest address, not the host's");
            assertEquals(0, gpa & 0xfff, "page aligned");
            assertTrue(gpa + 0x2000 <= IgdRig.RAM);
            byte[] guest = rig.kvm.guestMemory().read(gpa, host.length);
            assertArrayEquals(host, guest, "header and mailboxes 1-5 copied byte for byte");
            assertEquals("IntelGraphicsMem", new String(guest, 0, 16, java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals("$VBT COFFEELAKE", new String(guest, 0x400, 15, java.nio.charset.StandardCharsets.US_ASCII));
            // The memory map reports the copy as ACPI NVS, not RAM.
            List<E820Entry> map = rig.reservations().e820();
            assertTrue(map.contains(new E820Entry(gpa, 0x2000, E820Type.NVS)), map.toString());
            assertTrue(map.stream().noneMatch(e -> e.type() == E820Type.RAM && e.address() <= gpa && gpa < e.end()),
                    "no RAM entry covers the copy: " + map);
        }
        assertEquals(List.of(), rig.reservations().reserved(), "detach gives the reserved ranges back");
    }

    @Test
    void aslsIsFullyEmulatedAndAGuestWriteNeverReachesTheDevice() {
        rig = new IgdRig(tmp);
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            long gpa = asls();
            rig.cfgWrite(2, 0, IgdGeneration.ASLS, 4, 0x12345000L);
            rig.cfgWrite(2, 0, IgdGeneration.ASLS + 2, 2, 0xffff);
            rig.cfgWrite(2, 0, IgdGeneration.ASLS, 1, 0x77);
            assertEquals(gpa, asls(), "read-only to the guest");
            assertEquals(IgdRig.HOST_ASLS, rig.config.buffer().getInt(IgdGeneration.ASLS),
                    "the device's ASLS still holds the host address: no write reached it");
            // A byte-wide read sees the emulated value too.
            assertEquals((gpa >>> 8) & 0xff, rig.cfgRead(2, 0, IgdGeneration.ASLS + 1, 1));
        }
    }

    @Test
    void hostBridgeAndLpcBridgeCarryTheHostIds() {
        rig = new IgdRig(tmp);
        assertNull(rig.host.rootBus().function(0x1f, 0));
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            assertEquals(0x8086 | IgdRig.HOST_BRIDGE_ID << 16, rig.cfgRead(0, 0, 0x00, 4));
            assertEquals(0x0a, rig.cfgRead(0, 0, 0x08, 1), "revision");
            assertEquals(PciHostBridge.CLASS_HOST_BRIDGE, rig.cfgRead(0, 0, 0x08, 4) >>> 8, "still a host bridge");
            assertEquals(0x1028 | 0x0869 << 16, rig.cfgRead(0, 0, 0x2c, 4));

            assertEquals(0x8086 | (long) IgdRig.LPC_ID << 16, rig.cfgRead(0x1f, 0, 0x00, 4));
            assertEquals(0x06010010L, rig.cfgRead(0x1f, 0, 0x08, 4), "ISA bridge class, host revision");
            assertEquals(0x1028 | 0x0869 << 16, rig.cfgRead(0x1f, 0, 0x2c, 4));
            assertEquals(0, rig.cfgRead(0x1f, 0, 0x0e, 1), "type 0 header");
            assertInstanceOf(IgdLpcBridge.class, rig.host.rootBus().function(0x1f, 0));
        }
        assertNull(rig.host.rootBus().function(0x1f, 0), "the LPC bridge goes with the device");
        assertEquals(PciHostBridge.DEFAULT_IDENTITY.vendorId() | PciHostBridge.DEFAULT_IDENTITY.deviceId() << 16,
                rig.cfgRead(0, 0, 0, 4), "00:00.0 gets its own ids back");
    }

    @Test
    void gmchAndBdsmAreEmulatedWithTheStolenMemoryReserved() {
        rig = new IgdRig(tmp);
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            assertEquals(IgdRig.GMCH, rig.cfgRead(2, 0, IgdGeneration.GMCH, 2), "the host's GMCH: GMS 1");
            long bdsm = rig.cfgRead(2, 0, IgdGeneration.BDSM, 4);
            assertEquals(1, bdsm & 1, "locked");
            long base = bdsm & ~0xfffffL;
            assertTrue(base != (IgdRig.HOST_BDSM & ~0xfffffL), "guest base, not the host's");
            ReservedRange stolen = rig.reservations().reserved().stream()
                    .filter(r -> r.type() == E820Type.RESERVED).findFirst().orElseThrow();
            assertEquals(new ReservedRange(base, 32 * MIB, E820Type.RESERVED, IgdRig.BDF + " IGD stolen memory"),
                    stolen);
            assertTrue(rig.reservations().e820().contains(new E820Entry(base, 32 * MIB, E820Type.RESERVED)));

            rig.cfgWrite(2, 0, IgdGeneration.GMCH, 2, 0);
            rig.cfgWrite(2, 0, IgdGeneration.BDSM, 4, 0);
            assertEquals(IgdRig.GMCH, rig.cfgRead(2, 0, IgdGeneration.GMCH, 2));
            assertEquals(bdsm, rig.cfgRead(2, 0, IgdGeneration.BDSM, 4));
            assertEquals(IgdRig.GMCH, rig.config.buffer().getShort(IgdGeneration.GMCH) & 0xffff);
            assertEquals(IgdRig.HOST_BDSM, rig.config.buffer().getInt(IgdGeneration.BDSM), "device untouched");
        }
    }

    @Test
    void bar0MirrorsOfGmchAndBdsmAnswerFromTheEmulatedRegisters() {
        rig = new IgdRig(tmp);
        rig.region(0).buffer().putInt(0x1080C0, 0x7b800001).putShort(0x108040, (short) 0x1234)
                .putInt(0x108100, 0xCAFEF00D);
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            long bar0 = 0xd0000000L;
            rig.cfgWrite(2, 0, 0x10, 4, bar0);
            rig.cfgWrite(2, 0, 0x14, 4, 0);
            rig.cfgWrite(2, 0, 0x04, 2, 0x0006);
            long bdsm = rig.cfgRead(2, 0, IgdGeneration.BDSM, 4);
            assertEquals(bdsm, rig.kvm.mmioBus().read(bar0 + IgdGeneration.BAR0_BDSM_MIRROR, 4));
            assertEquals(IgdRig.GMCH, rig.kvm.mmioBus().read(bar0 + IgdGeneration.BAR0_GMCH_MIRROR, 2));
            rig.kvm.mmioBus().write(bar0 + IgdGeneration.BAR0_BDSM_MIRROR, 4, 0);
            assertEquals(bdsm, rig.kvm.mmioBus().read(bar0 + IgdGeneration.BAR0_BDSM_MIRROR, 4));
            assertEquals(0x7b800001, rig.region(0).buffer().getInt(0x1080C0), "the mirror write did not reach BAR0");
            assertEquals(0xCAFEF00DL, rig.kvm.mmioBus().read(bar0 + 0x108100, 4),
                    "the rest of the trapped page still reaches the device");
        }
    }

    @Test
    void extendedVbtOfOpRegion21IsCopiedRightAfterTheOpRegion() {
        rig = new IgdRig(tmp, r -> {
            r.opRegion(IgdRig.opRegion(2, 1, 0x2000, 0x1a00));
            r.hostBridgeRegion();
            r.lpcRegion();
        });
        byte[] host = rig.region(9).contents().clone();
        assertEquals(0x3a00, host.length);
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            long gpa = asls();
            byte[] guest = rig.kvm.guestMemory().read(gpa, host.length);
            assertArrayEquals(host, guest);
            assertEquals("$VBT EXTENDED", new String(guest, 0x2000, 13, java.nio.charset.StandardCharsets.US_ASCII),
                    "RVDA (relative 0x2000) finds the VBT in the copy");
            assertTrue(rig.reservations().e820().contains(new E820Entry(gpa, 0x4000, E820Type.NVS)),
                    "page-rounded: " + rig.reservations().e820());
            byte[] tail = rig.kvm.guestMemory().read(gpa + host.length, 0x4000 - host.length);
            assertArrayEquals(new byte[tail.length], tail, "the rest of the last page is zero");
        }
    }

    @Test
    void badOpRegionsRefuseTheAttachAndLeaveNothingBehind() {
        byte[] badSig = IgdRig.opRegion(2, 0, 0, 0);
        badSig[0] = 'X';
        byte[] zeroSize = IgdRig.opRegion(2, 0, 0, 0);
        zeroSize[0x10] = 0;
        byte[] tooBig = IgdRig.opRegion(2, 0, 0, 0);
        tooBig[0x10] = 9; // 9 KiB in an 8 KiB region
        byte[] physicalVbt = IgdRig.opRegion(2, 0, 0x7a6f8000L, 0x1800);
        byte[] detachedVbt = IgdRig.opRegion(2, 1, 0x3000, 0x800);
        String[][] cases = {{"signature"}, {"0 KiB"}, {"9 KiB"}, {"physical address 0x7a6f8000"},
            {"does not directly follow"}};
        byte[][] regions = {badSig, zeroSize, tooBig, physicalVbt, detachedVbt};
        for (int i = 0; i < regions.length; i++) {
            byte[] op = regions[i];
            IgdRig r = new IgdRig(tmp.resolve("case" + i), x -> {
                x.opRegion(op);
                x.hostBridgeRegion();
                x.lpcRegion();
            });
            try {
                VfioException e = assertThrows(VfioException.class, r::attach);
                assertTrue(e.getMessage().contains(IgdRig.BDF) && e.getMessage().contains("OpRegion (region 9)")
                        && e.getMessage().contains(cases[i][0]), e.getMessage());
                assertEquals(List.of(), r.reservations().reserved(), "case " + i);
                assertEquals(0, r.kernel.openFakeFds(), "case " + i + ": device, group and container closed");
                assertNull(r.host.rootBus().function(0x1f, 0), "case " + i);
                assertNull(r.host.rootBus().function(2, 0), "case " + i);
            } finally {
                r.close();
            }
        }
    }

    @Test
    void withoutTheRegionsNothingIsExposedAndThereIsNoError() {
        rig = new IgdRig(tmp, r -> { }); // an Intel VGA function on a kernel without IGD regions
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            assertEquals(IgdRig.HOST_ASLS, asls(), "ASLS passes through as for any register");
            assertEquals(List.of(), rig.reservations().reserved());
            assertNull(rig.host.rootBus().function(0x1f, 0));
            assertEquals(PciHostBridge.DEFAULT_IDENTITY.deviceId(), rig.cfgRead(0, 0, 2, 2));
            assertEquals(IgdRig.HOST_BDSM, rig.cfgRead(2, 0, IgdGeneration.BDSM, 4), "BDSM not emulated");
            assertEquals(0, rig.config.buffer().getInt(IgdGeneration.BDSM) ^ IgdRig.HOST_BDSM);
        }
    }

    @Test
    void aNonIntelDeviceIsLeftAlone() {
        rig = new IgdRig(tmp, r -> {
            r.config.buffer().putShort(0, (short) 0x1002);
            r.opRegion(IgdRig.opRegion(2, 0, 0, 0));
        });
        IgdQuirk quirk = new IgdQuirk();
        try (VfioPciDevice dev = rig.attach(quirk, b -> b)) {
            assertAt0002(dev);
            assertEquals(IgdRig.HOST_ASLS, asls());
            assertEquals(List.of(), rig.reservations().reserved());
        }
    }

    @Test
    void aFunctionAlreadyAt1fIsAClearError() {
        rig = new IgdRig(tmp);
        rig.host.rootBus().attach(0x1f, 0, PciHeaders.type0("vmm-isa", ConfigSpaceSize.CONVENTIONAL,
                PciIdentity.of(0x8086, 0x7000, IgdLpcBridge.CLASS_ISA_BRIDGE, 0), 0));
        VfioException e = assertThrows(VfioException.class, rig::attach);
        assertTrue(e.getMessage().contains("00:1f.0 is taken") && e.getMessage().contains("a306"), e.getMessage());
        assertEquals(List.of(), rig.reservations().reserved(), "the OpRegion reservation was undone");
        assertEquals(PciHostBridge.DEFAULT_IDENTITY.deviceId(), rig.cfgRead(0, 0, 2, 2), "00:00.0 restored");
        assertEquals(0x7000, rig.cfgRead(0x1f, 0, 2, 2), "the VMM's function is untouched");
    }

    @Test
    void anIgdLpcBridgeAlreadyThereIsReused() {
        rig = new IgdRig(tmp);
        IgdLpcBridge mine = new IgdLpcBridge(PciIdentity.of(0x8086, 0x1234, 0, 0));
        rig.host.rootBus().attach(0x1f, 0, mine);
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            assertEquals(IgdRig.LPC_ID, rig.cfgRead(0x1f, 0, 2, 2));
            assertTrue(rig.host.rootBus().function(0x1f, 0) == mine);
        }
        assertTrue(rig.host.rootBus().function(0x1f, 0) == mine, "not removed: the VMM put it there");
        assertEquals(0x1234, rig.cfgRead(0x1f, 0, 2, 2), "its ids are put back");
    }

    @Test
    void aVmmWithoutTheReservationHookIsToldWhy() {
        rig = new IgdRig(tmp);
        rig.vmm = new IgdRig.TestVmm(rig.kvm, false);
        VfioException e = assertThrows(VfioException.class, rig::attach);
        assertTrue(e.getMessage().contains("memoryReservations") && e.getMessage().contains("OpRegion"),
                e.getMessage());
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void anIgdCannotTakeRamOnceTheGuestHasItsMemoryMap() {
        rig = new IgdRig(tmp);
        rig.kvm.reservations().seal(); // the guest booted: hot-plug
        VfioException e = assertThrows(VfioException.class, rig::attach);
        assertTrue(e.getMessage().contains("already has its memory map"), e.getMessage());
        assertEquals(0, rig.kernel.openFakeFds());
        assertNull(rig.host.rootBus().function(2, 0));
    }

    @Test
    void anEioFromTheHostBridgeRegionUndoesTheOpRegionAndSaysWhere() {
        rig = new IgdRig(tmp, r -> {
            r.opRegion(IgdRig.opRegion(2, 0, 0, 0));
            r.hostBridgeRegion().failAccesses(org.vfio4j.core.sys.Errno.EIO);
            r.lpcRegion();
        });
        RuntimeException e = assertThrows(RuntimeException.class, rig::attach);
        String all = e.getMessage() + " / " + (e.getCause() == null ? "" : e.getCause().getMessage());
        assertTrue(all.contains("region 10") && all.contains("pread") && all.contains("EIO"), all);
        assertEquals(List.of(), rig.reservations().reserved(), "the OpRegion copy's range was given back");
        assertEquals(PciHostBridge.DEFAULT_IDENTITY.deviceId(), rig.cfgRead(0, 0, 2, 2));
        assertNull(rig.host.rootBus().function(0x1f, 0));
        assertEquals(0, rig.kernel.openFakeFds());
    }

    @Test
    void behindABridgeThereIsNo0000ToCopyTheHostIdsInto() {
        rig = new IgdRig(tmp);
        org.vfio4j.pci.bus.PciBridge bridge = new org.vfio4j.pci.bus.PciBridge("root port",
                PciIdentity.of(0x1b36, 0x000c, org.vfio4j.pci.bus.PciBridge.CLASS_PCI_BRIDGE, 0),
                ConfigSpaceSize.EXTENDED, 0, 1);
        rig.host.rootBus().attach(1, 0, bridge);
        VfioException e = assertThrows(VfioException.class, () -> VfioPciDevice.attach(rig.vfio, rig.vmm,
                bridge.secondary(), org.vfio4j.vfio.pci.VfioPciOptions.builder(IgdRig.BDF).slot(0)
                        .quirk(new IgdQuirk()).build()));
        assertTrue(e.getMessage().contains("bus 1") && e.getMessage().contains("root bus"), e.getMessage());
        assertEquals(List.of(), rig.reservations().reserved());
        assertNull(bridge.secondary().function(0, 0));
    }

    @Test
    void generation11UsesThe64BitBdsmAt0xC0() {
        rig = new IgdRig(tmp, r -> {
            r.config.buffer().putShort(2, (short) 0x8a52); // Ice Lake
            r.config.buffer().putShort(IgdGeneration.GMCH, (short) 0x02c0); // GMS 2: 64 MiB
            r.config.buffer().putLong(0xc0, 0x0000_0000_7c00_0001L);
            r.opRegion(IgdRig.opRegion(2, 1, 0, 0));
            r.hostBridgeRegion();
            r.lpcRegion();
        });
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            long lo = rig.cfgRead(2, 0, 0xc0, 4);
            long hi = rig.cfgRead(2, 0, 0xc4, 4);
            ReservedRange stolen = rig.reservations().reserved().stream()
                    .filter(r -> r.type() == E820Type.RESERVED).findFirst().orElseThrow();
            assertEquals(64 * MIB, stolen.size());
            assertEquals(stolen.guestAddress() | 1, lo | hi << 32);
            assertEquals(IgdRig.HOST_BDSM, rig.cfgRead(2, 0, IgdGeneration.BDSM, 4),
                    "0x5C is not BDSM on generation 11; it passes through");
            rig.cfgWrite(2, 0, 0xc4, 4, 0xffffffffL);
            assertEquals(0, rig.cfgRead(2, 0, 0xc4, 4));
            assertEquals(0, rig.config.buffer().getInt(0xc4));
        }
    }

    @Test
    void gmsOverrideChangesWhatTheGuestSeesAndWhatIsReserved() {
        rig = new IgdRig(tmp);
        try (VfioPciDevice dev = rig.attach(new IgdQuirk(OptionalInt.of(0xf1)), b -> b)) {
            assertAt0002(dev);
            assertEquals(0xf1c0, rig.cfgRead(2, 0, IgdGeneration.GMCH, 2));
            assertEquals(List.of(8 * MIB), rig.reservations().reserved().stream()
                    .filter(r -> r.type() == E820Type.RESERVED).map(ReservedRange::size).toList());
        }
        try (VfioPciDevice dev = rig.attach(new IgdQuirk(OptionalInt.of(0)), b -> b)) {
            assertAt0002(dev);
            assertEquals(0x00c0, rig.cfgRead(2, 0, IgdGeneration.GMCH, 2));
            assertEquals(0, rig.cfgRead(2, 0, IgdGeneration.BDSM, 4), "no stolen memory, no base");
            assertEquals(1, rig.reservations().reserved().size(), "only the OpRegion");
        }
        VfioException e = assertThrows(VfioException.class,
                () -> rig.attach(new IgdQuirk(OptionalInt.of(0x41)), b -> b));
        assertTrue(e.getMessage().contains("GMS 0x41"), e.getMessage());
    }

    @Test
    void anUnknownDeviceIdGetsTheRegionsButNoStolenMemoryEmulation() {
        rig = new IgdRig(tmp, r -> {
            r.config.buffer().putShort(2, (short) 0x7d55); // not in the family table
            r.opRegion(IgdRig.opRegion(2, 1, 0, 0));
            r.hostBridgeRegion();
            r.lpcRegion();
        });
        try (VfioPciDevice dev = rig.attach()) {
            assertAt0002(dev);
            assertTrue(asls() != IgdRig.HOST_ASLS);
            assertEquals(IgdRig.HOST_BDSM, rig.cfgRead(2, 0, IgdGeneration.BDSM, 4));
            assertEquals(1, rig.reservations().reserved().size());
            assertFalse(Arrays.equals(new byte[16], rig.kvm.guestMemory().read(asls(), 16)));
        }
    }

    /** The IGD sits where the guest driver looks for it, 00:02.0. */
    static void assertAt0002(VfioPciDevice dev) {
        org.junit.jupiter.api.Assertions.assertTrue(dev.isAttached());
        org.junit.jupiter.api.Assertions.assertEquals(new org.vfio4j.pci.bus.PciAddress(0, 2, 0), dev.address());
    }
}
