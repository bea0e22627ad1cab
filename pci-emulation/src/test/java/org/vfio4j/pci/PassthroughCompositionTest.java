package org.vfio4j.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigPassthrough;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.msix.MsixCapability;

/**
 * The composition a VFIO passthrough device will use, with a byte-array stand-in for the physical config space
 * (there is no /dev/vfio on this host): start from the physical bytes, pass everything through, then emulate the
 * BARs, hide one capability and replace MSI-X with an emulated one. Checked through ECAM as a guest sees it.
 */
class PassthroughCompositionTest {

    /** A physical function: 8086:1521, memory decode enabled, MSI@0x50 -> MSI-X@0x70, AER@0x100. */
    private static byte[] physical() {
        byte[] b = new byte[4096];
        set(b, 0x00, 4, 0x1521_8086L);
        set(b, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        set(b, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
        set(b, PCI_CLASS_REVISION, 4, 0x0200_0001L);
        set(b, PCI_BASE_ADDRESS_0, 4, 0xF780_0000L); // host physical address: must never reach the guest
        set(b, PCI_CAPABILITY_LIST, 1, 0x50);
        set(b, 0x50, 2, 0x7000 | PCI_CAP_ID_MSI);
        set(b, 0x52, 2, PCI_MSI_FLAGS_64BIT);
        set(b, 0x70, 2, PCI_CAP_ID_MSIX);
        set(b, 0x72, 2, 9); // 10 vectors
        set(b, 0x74, 4, 0x3); // table in BAR3
        set(b, 0x78, 4, 0x2003);
        set(b, 0x100, 4, extCapHeader(PCI_EXT_CAP_ID_ERR, 2, 0));
        return b;
    }

    private static void set(byte[] b, int off, int size, long v) {
        for (int i = 0; i < size; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long get(byte[] b, int off, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = v << 8 | (b[off + i] & 0xFF);
        }
        return v;
    }

    @Test
    void emulatedPartsOverlayThePhysicalFunction() {
        byte[] hw = physical();
        List<String> hwWrites = new ArrayList<>();
        ConfigSpace cs = ConfigSpace.copyOf("0000:01:00.0", hw);
        cs.setEmulatedRange(0, cs.length(), false);
        cs.setWritable(PCI_COMMAND, 2, PciHeaders.COMMAND_WRITABLE);
        cs.setPassthrough(new ConfigPassthrough() {
            @Override
            public long read(int offset, int size) {
                return get(hw, offset, size);
            }

            @Override
            public void write(int offset, int size, long value, long passMask) {
                hwWrites.add(String.format("%x/%d=%x&%x", offset, size, value, passMask));
                long merged = (get(hw, offset, size) & ~passMask) | (value & passMask);
                set(hw, offset, size, merged);
            }
        });
        PciBars bars = new PciBars(cs);
        bars.define(BarDefinition.memory32(0, 128 * 1024));
        bars.define(BarDefinition.memory32(3, 16 * 1024));
        CapabilityList caps = new CapabilityList(cs);
        caps.hide(caps.find(PCI_CAP_ID_MSI).orElseThrow());
        MsixCapability msix = new MsixCapability(10, 3, 0, 3, 0x2000, m -> { });
        caps.replace(caps.find(PCI_CAP_ID_MSIX).orElseThrow(), msix);

        PciHostBridge host = new PciHostBridge();
        host.rootBus().attach(1, 0, cs);
        EcamHandler ecam = new EcamHandler(host, 1);
        long fn = 1L << 15;

        assertEquals(0x1521_8086L, ecam.read(fn, 4), "identity passes through");
        assertEquals(0, ecam.read(fn + PCI_BASE_ADDRESS_0, 4), "the host BAR address is not shown");
        ecam.write(fn + PCI_BASE_ADDRESS_0, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFE_0000L, ecam.read(fn + PCI_BASE_ADDRESS_0, 4), "BAR sizing is emulated");
        assertEquals(0xF780_0000L, get(hw, PCI_BASE_ADDRESS_0, 4), "and never reaches the hardware");
        assertEquals(0x70, ecam.read(fn + PCI_CAPABILITY_LIST, 1), "MSI hidden: the list starts at MSI-X");
        assertEquals(PCI_CAP_ID_MSIX, ecam.read(fn + 0x70, 1));
        assertEquals(0x0003L, ecam.read(fn + 0x74, 4), "emulated MSI-X table placement");
        assertEquals(0, ecam.read(fn + 0x50, 4), "hidden capability bytes read zero");
        assertEquals(extCapHeader(PCI_EXT_CAP_ID_ERR, 2, 0) & 0xFFFF_FFFFL, ecam.read(fn + 0x100, 4),
                "untouched extended capability passes through");
        ecam.write(fn + PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        assertEquals(List.of("4/2=6&ffff"), hwWrites, "command writes go to the hardware");
        assertEquals(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, ecam.read(fn + PCI_COMMAND, 2));
        ecam.write(fn + 0x72, 2, PCI_MSIX_FLAGS_ENABLE);
        assertTrue(msix.isEnabled(), "the emulated MSI-X sees the guest's enable");
        assertEquals(1, hwWrites.size(), "emulated MSI-X control did not reach the hardware");
    }
}
