package org.vfio4j.pci.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.TestFunction;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.BarType;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/** Firmware-less BAR placement: sizing through config accesses, natural alignment, decode enabling. */
class BarAllocatorTest {
    private static final BarAllocator.Window IO = new BarAllocator.Window(0xC000, 0x4000);
    private static final BarAllocator.Window MEM32 = new BarAllocator.Window(0xC000_0000L, 0x1000_0000L);
    private static final BarAllocator.Window MEM64 = new BarAllocator.Window(1L << 40, 1L << 32);

    @Test
    void probingFindsEveryBarKindWithItsSize() {
        TestFunction f = new TestFunction();
        List<BarAllocator.ProbedBar> bars = BarAllocator.probe(new PciAddress(0, 3, 0), f.config);
        PciAddress a = new PciAddress(0, 3, 0);
        assertEquals(List.of(new BarAllocator.ProbedBar(a, 0, BarType.IO, 32, false),
                new BarAllocator.ProbedBar(a, 1, BarType.MEMORY32, 4096, false),
                new BarAllocator.ProbedBar(a, 2, BarType.MEMORY64, 1 << 20, true),
                new BarAllocator.ProbedBar(a, 4, BarType.MEMORY64, 16384, false),
                new BarAllocator.ProbedBar(a, PciBars.ROM, BarType.MEMORY32, 65536, false)), bars);
        assertEquals(0, f.config.read(PCI_BASE_ADDRESS_0 + 4, 4) & ~0xF, "registers restored after sizing");
    }

    @Test
    void assignsAlignedNonOverlappingAddressesAndEnablesDecode() {
        PciBus bus = new PciBus(0);
        TestFunction f1 = new TestFunction("f1");
        TestFunction f2 = new TestFunction("f2");
        bus.attach(1, 0, f1.config);
        bus.attach(2, 0, f2.config);
        List<BarAllocator.Assignment> out = new BarAllocator(IO, MEM32, MEM64).assign(bus);
        assertEquals(10, out.size());
        for (BarAllocator.Assignment as : out) {
            long size = as.bar().size();
            assertEquals(0, as.address() % size, "natural alignment of " + as);
            for (BarAllocator.Assignment other : out) {
                if (other != as && other.bar().type().isMemory() == as.bar().type().isMemory()) {
                    boolean disjoint = as.address() + size <= other.address()
                            || other.address() + other.bar().size() <= as.address();
                    assertTrue(disjoint, as + " overlaps " + other);
                }
            }
        }
        for (TestFunction f : List.of(f1, f2)) {
            assertEquals(PCI_COMMAND_IO | PCI_COMMAND_MEMORY, f.config.read(PCI_COMMAND, 2));
            assertTrue(f.bars.isDecoding(0));
            assertTrue(f.bars.isDecoding(1));
            assertTrue(f.bars.address(2) >= MEM64.base(), "64-bit prefetchable BAR above 4 GiB");
            assertTrue(f.bars.address(4) < (1L << 32), "non-prefetchable 64-bit BAR in the 32-bit window");
            assertTrue(f.bars.address(0) >= IO.base() && f.bars.address(0) < IO.base() + IO.size());
            assertEquals(0, f.config.read(PCI_ROM_ADDRESS, 4) & PCI_ROM_ADDRESS_ENABLE, "ROM left disabled");
            assertTrue(f.bars.address(PciBars.ROM) >= MEM32.base());
        }
    }

    @Test
    void aWindowThatIsTooSmallIsReportedWithTheFunction() {
        PciBus bus = new PciBus(0);
        ConfigSpace cs = PciHeaders.type0("big", ConfigSpaceSize.EXTENDED, PciIdentity.of(1, 1, 0x030000, 0), 0);
        new PciBars(cs).define(BarDefinition.memory32(0, 1L << 30));
        bus.attach(cs);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new BarAllocator(IO, MEM32, null).assign(bus));
        assertTrue(e.getMessage().contains("00:00.0"), e.getMessage());
    }
}
