package org.vfio4j.pci.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vfio4j.pci.config.PciRegisters.*;

import org.junit.jupiter.api.Test;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/** Slots, functions, multi-function devices and bridge routing. */
class PciBusTest {

    private static ConfigSpace fn(int deviceId) {
        return PciHeaders.type0("f" + deviceId, ConfigSpaceSize.EXTENDED,
                PciIdentity.of(0x1af4, deviceId, 0x020000, 0), 1);
    }

    @Test
    void functionsAppearAtTheirSlotAndEmptySlotsReadAllOnes() {
        PciBus bus = new PciBus(0);
        PciAddress a = bus.attach(fn(0x1000));
        PciAddress b = bus.attach(fn(0x1001));
        assertEquals("00:00.0", a.toString());
        assertEquals(new PciAddress(0, 1, 0), b);
        assertEquals(0x1001, bus.read(1, 0, PCI_DEVICE_ID, 2));
        assertEquals(0xFFFF, bus.read(2, 0, PCI_VENDOR_ID, 2));
        assertThrows(IllegalStateException.class, () -> bus.attach(1, 0, fn(1)));
        assertEquals(0xFFFF_FFFFL, bus.read(40, 0, 0, 4), "device numbers beyond 31 are empty");
    }

    @Test
    void multiFunctionSlotsReportTheBitAndHideFunctionsWithoutFunctionZero() {
        PciBus bus = new PciBus(0);
        bus.attach(3, 2, fn(0x1002));
        assertEquals(0xFFFF, bus.read(3, 2, PCI_VENDOR_ID, 2), "function 2 is invisible without function 0");
        bus.attach(3, 0, fn(0x1000));
        assertEquals(0x1002, bus.read(3, 2, PCI_DEVICE_ID, 2));
        assertEquals(PCI_HEADER_TYPE_MFD, bus.read(3, 0, PCI_HEADER_TYPE, 1));
        assertEquals(PCI_HEADER_TYPE_MFD << 16, bus.read(3, 0, 0x0C, 4) & 0x00FF_0000L, "dword read covers it");
        assertEquals(0, bus.read(3, 2, PCI_HEADER_TYPE, 1), "only function 0 carries the bit");
        bus.detach(3, 2);
        assertEquals(0, bus.read(3, 0, PCI_HEADER_TYPE, 1), "single-function again");
    }

    @Test
    void bridgesRouteBySecondaryAndSubordinateBusNumbers() {
        PciHostBridge host = new PciHostBridge(null);
        PciBridge br1 = new PciBridge("br1", PciIdentity.of(0x1b36, 0x0001, PciBridge.CLASS_PCI_BRIDGE, 0),
                ConfigSpaceSize.EXTENDED, 0, 1);
        host.rootBus().attach(1, 0, br1);
        PciBridge br2 = new PciBridge("br2", PciIdentity.of(0x1b36, 0x0001, PciBridge.CLASS_PCI_BRIDGE, 0),
                ConfigSpaceSize.EXTENDED, 1, 2);
        br1.secondary().attach(0, 0, br2);
        br2.secondary().attach(0, 0, fn(0x1042));
        assertEquals(0xFFFF, host.read(2, 0, 0, PCI_VENDOR_ID, 2), "br1 subordinate 1 does not cover bus 2");
        host.write(0, 1, 0, PCI_SUBORDINATE_BUS, 1, 2);
        assertEquals(0x1042, host.read(2, 0, 0, PCI_DEVICE_ID, 2));
        assertEquals(0x0604, host.read(1, 0, 0, PCI_CLASS_DEVICE, 2));
        assertSame(br2.secondary(), host.bus(2));
        // Renumber the hierarchy as a guest would: bus 1 -> 5, bus 2 -> 6.
        host.write(0, 1, 0, PCI_PRIMARY_BUS, 4, 0x06_05_00L);
        host.write(5, 0, 0, PCI_PRIMARY_BUS, 4, 0x06_06_05L);
        assertEquals(0x1042, host.read(6, 0, 0, PCI_DEVICE_ID, 2));
        assertNull(host.bus(2));
        assertEquals(0xFFFF_FFFFL, host.read(0, 0, 0, 0, 4), "constructed without a host bridge function");
    }
}
