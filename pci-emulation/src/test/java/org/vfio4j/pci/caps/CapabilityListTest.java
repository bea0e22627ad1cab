package org.vfio4j.pci.caps;

import org.vfio4j.pci.config.ConfigChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigPassthrough;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.pci.msi.MsiCapability;
import org.vfio4j.pci.msix.MsixCapability;

/** Building, parsing, hiding and replacing capabilities, checked by walking the lists the way a guest does. */
class CapabilityListTest {

    /** Standard list as Linux's __pci_find_next_cap_ttl sees it through guest reads: "id@offset". */
    static List<String> guestStandard(ConfigAccess cs) {
        List<String> out = new ArrayList<>();
        if ((cs.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) == 0) {
            return out;
        }
        int pos = (int) cs.read(PCI_CAPABILITY_LIST, 1);
        for (int ttl = 48; ttl > 0 && pos >= 0x40; ttl--) {
            pos &= ~3;
            int ent = (int) cs.read(pos, 2);
            if ((ent & 0xFF) == 0xFF) {
                break;
            }
            out.add(String.format("%02x@%02x", ent & 0xFF, pos));
            pos = ent >> 8;
        }
        return out;
    }

    /** Extended list as Linux's pci_find_next_ext_capability sees it: "id@offset", skipping id 0. */
    static List<String> guestExtended(ConfigAccess cs) {
        List<String> out = new ArrayList<>();
        int pos = 0x100;
        long header = cs.read(pos, 4);
        if (header == 0 || header == 0xFFFF_FFFFL) {
            return out;
        }
        for (int ttl = 480; ttl > 0; ttl--) {
            if (extCapId((int) header) != 0) {
                out.add(String.format("%04x@%03x", extCapId((int) header), pos));
            }
            pos = extCapNext((int) header);
            if (pos < 0x100) {
                break;
            }
            header = cs.read(pos, 4);
        }
        return out;
    }

    private static ConfigSpace endpoint() {
        return PciHeaders.type0("ep", ConfigSpaceSize.EXTENDED, PciIdentity.of(0x1af4, 0x1000, 0x020000, 0), 1);
    }

    @Test
    void addedCapabilitiesAreLinkedInOrderAndTheStatusBitIsSet() {
        ConfigSpace cs = endpoint();
        CapabilityList caps = new CapabilityList(cs);
        assertEquals(List.of(), guestStandard(cs));
        int pm = caps.add(new PowerManagementCapability(0, false));
        int msi = caps.add(new MsiCapability(1, true, false, m -> { }));
        int vndr = caps.add(new VendorCapability(new byte[] {9}));
        assertEquals(0x40, pm);
        assertEquals(0x48, msi, "PM is 8 bytes long");
        assertEquals(0x58, vndr, "64-bit MSI without masking is 14 bytes, next dword at 0x58");
        assertEquals(List.of("01@40", "05@48", "09@58"), guestStandard(cs));
        assertEquals(4, cs.read(0x5A, 1), "vendor capability length byte");
        cs.write(0x41, 1, 0x00); // next pointers are read-only
        cs.write(PCI_CAPABILITY_LIST, 1, 0x80);
        assertEquals(List.of("01@40", "05@48", "09@58"), guestStandard(cs));
    }

    @Test
    void extendedCapabilitiesStartAt0x100AndChain() {
        ConfigSpace cs = endpoint();
        CapabilityList caps = new CapabilityList(cs);
        assertEquals(0, cs.read(0x100, 4), "no extended capabilities: zero header");
        assertEquals(0x100, caps.addExtended(new RawExtendedCapability(PCI_EXT_CAP_ID_DSN, 1, new byte[8], null)));
        int second = caps.addExtended(new RawExtendedCapability(PCI_EXT_CAP_ID_VNDR, 1, new byte[4], null));
        assertEquals(0x10C, second);
        assertEquals(List.of("0003@100", "000b@10c"), guestExtended(cs));
        assertEquals(1, extCapVersion((int) cs.read(0x100, 4)));
        ConfigSpace conventional = new ConfigSpace("c", ConfigSpaceSize.CONVENTIONAL);
        assertThrows(IllegalStateException.class, () -> new CapabilityList(conventional)
                .addExtended(new RawExtendedCapability(1, 1, new byte[4], null)));
    }

    /** A "physical" config space: PM@0x40 -> MSI@0x50 -> PCIe@0x70 -> MSI-X@0xB0, AER@0x100 -> DSN@0x140. */
    private static byte[] physical() {
        byte[] b = new byte[4096];
        b[0] = (byte) 0x86;
        b[1] = (byte) 0x80;
        b[PCI_STATUS] = PCI_STATUS_CAP_LIST;
        b[PCI_CAPABILITY_LIST] = 0x40;
        put(b, 0x40, PCI_CAP_ID_PM, 0x50);
        b[0x42] = 3;
        put(b, 0x50, PCI_CAP_ID_MSI, 0x70);
        b[0x52] = (byte) (PCI_MSI_FLAGS_64BIT); // 64-bit, no masking: 14 bytes
        put(b, 0x70, PCI_CAP_ID_EXP, 0xB0);
        b[0x72] = 0x02; // version 2 endpoint
        put(b, 0xB0, PCI_CAP_ID_MSIX, 0x00);
        putDword(b, 0x100, extCapHeader(PCI_EXT_CAP_ID_ERR, 2, 0x140));
        putDword(b, 0x140, extCapHeader(PCI_EXT_CAP_ID_DSN, 1, 0));
        putDword(b, 0x144, 0x1234_5678);
        return b;
    }

    private static void put(byte[] b, int off, int id, int next) {
        b[off] = (byte) id;
        b[off + 1] = (byte) next;
    }

    private static void putDword(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    @Test
    void aPhysicalChainIsParsedWithLengthsFromTheSpecOrTheGap() {
        CapabilityList caps = new CapabilityList(ConfigSpace.copyOf("phys", physical()));
        assertEquals(List.of(new CapabilityEntry.Standard(PCI_CAP_ID_PM, 0x40, 8),
                new CapabilityEntry.Standard(PCI_CAP_ID_MSI, 0x50, 14),
                new CapabilityEntry.Standard(PCI_CAP_ID_EXP, 0x70, 0x3C),
                new CapabilityEntry.Standard(PCI_CAP_ID_MSIX, 0xB0, 12)), caps.standard());
        assertEquals(List.of(new CapabilityEntry.Extended(PCI_EXT_CAP_ID_ERR, 2, 0x100, 0x40),
                new CapabilityEntry.Extended(PCI_EXT_CAP_ID_DSN, 1, 0x140, 12)), caps.extended());
    }

    @Test
    void hidingUnlinksFirstMiddleAndLastAndZeroesTheBytes() {
        ConfigSpace cs = ConfigSpace.copyOf("phys", physical());
        CapabilityList caps = new CapabilityList(cs);
        caps.hide(caps.find(PCI_CAP_ID_MSI).orElseThrow());
        assertEquals(List.of("01@40", "10@70", "11@b0"), guestStandard(cs));
        assertEquals(0, cs.read(0x50, 4));
        caps.hide(caps.find(PCI_CAP_ID_PM).orElseThrow());
        assertEquals(List.of("10@70", "11@b0"), guestStandard(cs));
        caps.hide(caps.find(PCI_CAP_ID_MSIX).orElseThrow());
        assertEquals(List.of("10@70"), guestStandard(cs));
        assertEquals(0, cs.read(0x71, 1), "the last capability's next pointer is now zero");
        caps.hide(caps.find(PCI_CAP_ID_EXP).orElseThrow());
        assertEquals(List.of(), guestStandard(cs));
        assertEquals(0, cs.read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, "empty list clears the status bit");
    }

    @Test
    void hidingTheExtendedHeadLeavesANullHeaderThatStillLinks() {
        ConfigSpace cs = ConfigSpace.copyOf("phys", physical());
        CapabilityList caps = new CapabilityList(cs);
        caps.hideExtended(caps.findExtended(PCI_EXT_CAP_ID_ERR).orElseThrow());
        assertEquals(List.of("0003@140"), guestExtended(cs));
        assertEquals(extCapHeader(0, 0, 0x140), (int) cs.read(0x100, 4));
        // Reparsing the edited image sees the same list (the null head is not a capability).
        assertEquals(List.of(new CapabilityEntry.Extended(PCI_EXT_CAP_ID_DSN, 1, 0x140, 12)),
                new CapabilityList(cs).extended());
        caps.hideExtended(caps.findExtended(PCI_EXT_CAP_ID_DSN).orElseThrow());
        assertEquals(0, cs.read(0x100, 4), "nothing left: all-zero header");
        assertEquals(0, cs.read(0x144, 4), "hidden bytes are zeroed");
        assertEquals(0x100, caps.addExtended(new RawExtendedCapability(PCI_EXT_CAP_ID_VNDR, 1, new byte[4], null)));
    }

    @Test
    void hidingAMiddleExtendedCapabilityRelinksItsPredecessor() {
        ConfigSpace cs = ConfigSpace.copyOf("phys", physical());
        CapabilityList caps = new CapabilityList(cs);
        int off = caps.addExtended(new RawExtendedCapability(PCI_EXT_CAP_ID_VNDR, 1, new byte[4], null));
        assertEquals(List.of("0001@100", "0003@140", "000b@" + Integer.toHexString(off)), guestExtended(cs));
        caps.hideExtended(caps.findExtended(PCI_EXT_CAP_ID_DSN).orElseThrow());
        assertEquals(List.of("0001@100", "000b@" + Integer.toHexString(off)), guestExtended(cs));
    }

    @Test
    void replacingInPlaceKeepsTheChainPosition() {
        ConfigSpace cs = ConfigSpace.copyOf("phys", physical());
        CapabilityList caps = new CapabilityList(cs);
        MsixCapability emulated = new MsixCapability(4, 0, 0, 0, 0x1000, m -> { });
        int off = caps.replace(caps.find(PCI_CAP_ID_MSIX).orElseThrow(), emulated);
        assertEquals(0xB0, off);
        assertEquals(List.of("01@40", "05@50", "10@70", "11@b0"), guestStandard(cs));
        assertEquals(3, cs.read(0xB2, 2) & PCI_MSIX_FLAGS_QSIZE, "emulated table size");
        assertEquals(0x1000, cs.read(0xB8, 4));
    }

    @Test
    void replacingWithALargerCapabilityMovesItToFreeSpaceAtTheTail() {
        ConfigSpace cs = ConfigSpace.copyOf("phys", physical());
        CapabilityList caps = new CapabilityList(cs);
        // 64-bit MSI with per-vector masking is 24 bytes; the physical MSI slot spans 14.
        int off = caps.replace(caps.find(PCI_CAP_ID_MSI).orElseThrow(), new MsiCapability(8, true, true, m -> { }));
        assertEquals(List.of("01@40", "10@70", "11@b0", String.format("05@%02x", off)), guestStandard(cs));
        assertTrue(off >= 0xBC || off + 24 <= 0x70, "placed in free space, not over another capability");
        assertEquals(0x0186, cs.read(off + 2, 2), "8 vectors, 64-bit, maskable");
    }

    @Test
    void everyEditedByteIsEmulatedSoTheHardwareValueNeverShows() {
        ConfigSpace cs = ConfigSpace.copyOf("phys", physical());
        cs.setEmulatedRange(0, 4096, false); // start fully passed through
        byte[] hw = physical();
        cs.setPassthrough(new ConfigPassthrough() {
            @Override
            public long read(int offset, int size) {
                long v = 0;
                for (int i = size - 1; i >= 0; i--) {
                    v = v << 8 | (hw[offset + i] & 0xFF);
                }
                return v;
            }

            @Override
            public void write(int offset, int size, long value, long passMask) {
            }
        });
        CapabilityList caps = new CapabilityList(cs);
        caps.hide(caps.find(PCI_CAP_ID_MSI).orElseThrow());
        caps.hideExtended(caps.findExtended(PCI_EXT_CAP_ID_ERR).orElseThrow());
        caps.replace(caps.find(PCI_CAP_ID_PM).orElseThrow(), new PowerManagementCapability(0, true));
        assertEquals(List.of("01@40", "10@70", "11@b0"), guestStandard(cs));
        assertEquals(List.of("0003@140"), guestExtended(cs));
        assertEquals(0, cs.read(0x50, 4), "hidden MSI reads zero, not the hardware's bytes");
        assertEquals(PCI_PM_CTRL_NO_SOFT_RESET, cs.read(0x44, 2), "emulated PM registers");
        assertEquals(0x1234_5678L, cs.read(0x144, 4), "untouched capability still passes through");
    }

    @Test
    void aLoopingOrRunawayChainStopsParsing() {
        byte[] b = new byte[256];
        b[PCI_STATUS] = PCI_STATUS_CAP_LIST;
        b[PCI_CAPABILITY_LIST] = 0x40;
        put(b, 0x40, PCI_CAP_ID_PM, 0x60);
        put(b, 0x60, PCI_CAP_ID_VNDR, 0x43); // low bits are masked: points back at 0x40
        CapabilityList caps = new CapabilityList(ConfigSpace.copyOf("loop", b));
        assertEquals(2, caps.standard().size());
        byte[] ff = new byte[4096];
        ff[PCI_STATUS] = PCI_STATUS_CAP_LIST;
        ff[PCI_CAPABILITY_LIST] = 0x40;
        put(ff, 0x40, 0xFF, 0x50); // id 0xFF terminates, as in Linux
        putDword(ff, 0x100, extCapHeader(1, 1, 0x100)); // self loop
        CapabilityList c2 = new CapabilityList(ConfigSpace.copyOf("ff", ff));
        assertEquals(0, c2.standard().size());
        assertEquals(1, c2.extended().size());
    }

    @Test
    void runningOutOfRoomIsAConfigurationError() {
        ConfigSpace cs = endpoint();
        CapabilityList caps = new CapabilityList(cs);
        caps.add(new RawCapability(PCI_CAP_ID_VNDR, new byte[150], null));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> caps.add(new RawCapability(PCI_CAP_ID_VNDR, new byte[60], null)));
        assertTrue(e.getMessage().contains("ep"));
        assertThrows(IllegalArgumentException.class,
                () -> caps.hide(new CapabilityEntry.Standard(1, 0x80, 8)));
    }

    @Test
    void rawCapabilitiesInstallTheirWritableMask() {
        ConfigSpace cs = endpoint();
        int off = new CapabilityList(cs).add(new RawCapability(0x0D, new byte[] {0, 0, 0x34, 0x12},
                new byte[] {(byte) 0xFF, 0, 0, 0}));
        cs.write(off + 2, 2, 0xFFFF);
        cs.write(off + 4, 2, 0xFFFF);
        assertEquals(0x00FF, cs.read(off + 2, 2));
        assertEquals(0x1234, cs.read(off + 4, 2));
        assertEquals(0xFFFF_FFFFL, cs.read(off + 2, 4), "a dword crossing a dword boundary is not a config access");
    }
}
