package org.vfio4j.refvmm.linux.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.bus.PciAddress;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/**
 * BAR placement on pci-emulation functions behind a real {@link PciHostBridge}: every BAR kind, a multi-function
 * slot, command and interrupt line registers, and the error for a BAR that does not fit.
 */
class PciResourceAssignerTest {
    private final PciHostBridge hostBridge = new PciHostBridge();

    /** An emulated PCIe function with {@code pin} (0 none, 1..4) and the given BARs, attached at slot.fn. */
    private PciBars function(int slot, int fn, int pin, List<BarDefinition> defs, long romSize) {
        ConfigSpace cs = PciHeaders.type0("f" + slot + "." + fn, ConfigSpaceSize.EXTENDED,
                PciIdentity.of(0x1af4, 0x1000 + slot * 8 + fn, 0x020000, 1), pin);
        PciBars bars = new PciBars(cs);
        defs.forEach(bars::define);
        if (romSize > 0) {
            bars.defineRom(romSize);
        }
        hostBridge.rootBus().attach(slot, fn, cs);
        return bars;
    }

    private long command(int slot, int fn) {
        return hostBridge.read(0, slot, fn, PCI_COMMAND, 2);
    }

    @Test
    void placesEveryBarKindInItsWindowAndProgramsCommandAndInterruptLine() {
        PciBars full = function(1, 0, 1, List.of(BarDefinition.io(0, 32), BarDefinition.memory32(1, 4096),
                BarDefinition.memory64(2, 1L << 20, true), BarDefinition.memory64(4, 16384, false)), 64 * 1024);
        // A multi-function slot: functions 0 and 3, found only through the MFD bit of function 0.
        PciBars f0 = function(2, 0, 1, List.of(BarDefinition.memory32(0, 256)), 0);
        PciBars f3 = function(2, 3, 2, List.of(BarDefinition.io(0, 256),
                BarDefinition.memory64(2, 64L << 20, true), BarDefinition.memory32(5, 2L << 20)), 0);

        List<AssignedFunction> out = new PciResourceAssigner(hostBridge).assign();

        assertEquals(List.of(new PciAddress(0, 0, 0), new PciAddress(0, 1, 0), new PciAddress(0, 2, 0),
                new PciAddress(0, 2, 3)), out.stream().map(AssignedFunction::address).toList());
        AssignedFunction host = out.get(0);
        assertEquals(0x1b36, host.vendorId());
        assertEquals(0x060000, host.classCode());
        assertEquals(List.of(), host.bars());
        assertEquals(-1, host.gsi());

        PciWindows w = PciWindows.STANDARD;
        // The registers hold what the report says, each BAR in its window, ROM disabled.
        Map<PciAddress, PciBars> bars = Map.of(new PciAddress(0, 1, 0), full, new PciAddress(0, 2, 0), f0,
                new PciAddress(0, 2, 3), f3);
        for (AssignedFunction f : out.subList(1, 4)) {
            PciBars b = bars.get(f.address());
            for (BarAssignment a : f.bars()) {
                assertEquals(a.address(), b.address(a.index()), f.address() + " " + a);
                assertEquals(b.size(a.index()), a.size(), f.address() + " " + a);
                PciWindow in = switch (a.kind()) {
                    case IO -> w.io();
                    case MEMORY32, ROM -> w.mem32();
                    case MEMORY64 -> w.mem64();
                };
                assertTrue(in.contains(a.address(), a.size()), a + " in " + in);
                assertEquals(0, a.address() % a.size(), "natural alignment of " + a);
                if (a.kind() != BarKind.IO) {
                    assertEquals(0, a.address() % 4096, "memory BARs page aligned: " + a);
                }
                if (a.kind() == BarKind.ROM) {
                    assertFalse(b.isDecoding(PciBars.ROM), "ROM left disabled");
                } else {
                    assertTrue(b.isDecoding(a.index()), a + " decodes");
                }
            }
        }
        AssignedFunction full1 = out.get(1);
        assertEquals(List.of(BarKind.IO, BarKind.MEMORY32, BarKind.MEMORY64, BarKind.MEMORY64, BarKind.ROM),
                full1.bars().stream().map(BarAssignment::kind).toList());
        assertEquals(List.of(0, 1, 2, 4, 6), full1.bars().stream().map(BarAssignment::index).toList());
        assertTrue(full1.bars().get(2).prefetchable());
        assertFalse(full1.bars().get(3).prefetchable());
        assertEquals(PCI_COMMAND_IO | PCI_COMMAND_MEMORY, command(1, 0), "decode on, bus mastering left to drivers");
        assertEquals(PCI_COMMAND_MEMORY, command(2, 0));
        assertEquals(PCI_COMMAND_IO | PCI_COMMAND_MEMORY, command(2, 3));
        assertEquals(full1.command(), command(1, 0));

        // Interrupt lines by the _PRT formula: 16 + (slot + pin - 1) mod 8.
        assertEquals(17, out.get(1).gsi());
        assertEquals(18, out.get(2).gsi());
        assertEquals(19, out.get(3).gsi());
        assertEquals(17, hostBridge.read(0, 1, 0, PCI_INTERRUPT_LINE, 1));
        assertEquals(18, hostBridge.read(0, 2, 0, PCI_INTERRUPT_LINE, 1));
        assertEquals(19, hostBridge.read(0, 2, 3, PCI_INTERRUPT_LINE, 1));

        // Largest first from each window's base: the 64 MiB BAR opens the 64-bit window, the 2 MiB one the 32-bit.
        assertEquals(w.mem64().base(), f3.address(2));
        assertEquals(w.mem64().base() + (64L << 20), full.address(2));
        assertEquals(w.mem32().base(), f3.address(5));
        assertEquals(w.io().base(), f3.address(0));
        assertEquals(w.io().base() + 256, full.address(0));
        assertNoOverlaps(out);
        assertTrue(out.get(2).toString().contains("00:02.0 1af4:1010 class 020000 command 0x0002 INTA -> GSI 18"),
                out.get(2).toString());
    }

    /** No two memory (or two I/O) ranges overlap, counting each memory BAR as at least a 4 KiB page. */
    private static void assertNoOverlaps(List<AssignedFunction> out) {
        List<BarAssignment> all = new ArrayList<>();
        out.forEach(f -> all.addAll(f.bars()));
        for (BarAssignment a : all) {
            for (BarAssignment b : all) {
                if (a != b && (a.kind() == BarKind.IO) == (b.kind() == BarKind.IO)) {
                    long sa = a.kind() == BarKind.IO ? a.size() : Math.max(a.size(), 4096);
                    long sb = b.kind() == BarKind.IO ? b.size() : Math.max(b.size(), 4096);
                    assertTrue(a.address() + sa <= b.address() || b.address() + sb <= a.address(),
                            a + " overlaps " + b);
                }
            }
        }
    }

    @Test
    void withoutRoomForA64BitBarTheErrorNamesTheFunctionAndBarAndNothingIsProgrammed() {
        PciWindows small = new PciWindows(PciWindows.STANDARD_IO, PciWindows.STANDARD_MEM32,
                new PciWindow(0x40_0000_0000L, 1L << 30));
        function(3, 0, 1, List.of(BarDefinition.memory32(0, 4096)), 0);
        function(4, 1, 0, List.of(BarDefinition.io(0, 16)), 0);
        function(4, 0, 0, List.of(BarDefinition.memory32(0, 4096), BarDefinition.memory64(2, 2L << 30, true)), 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new PciResourceAssigner(hostBridge, small).assign());
        assertTrue(e.getMessage().contains("00:04.0 BAR 2"), e.getMessage());
        assertTrue(e.getMessage().contains("64-bit memory window"), e.getMessage());
        assertEquals(0, command(3, 0), "nothing programmed before the error");
        assertEquals(0, hostBridge.read(0, 3, 0, PCI_BASE_ADDRESS_0, 4), "sizing restored the BAR");
    }

    @Test
    void aRomThatDoesNotFitIsReportedAsTheRom() {
        PciWindows tiny = new PciWindows(PciWindows.STANDARD_IO, new PciWindow(0xC000_0000L, 0x8000),
                PciWindows.STANDARD_MEM64);
        function(5, 0, 0, List.of(BarDefinition.memory32(0, 0x8000)), 0x8000);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new PciResourceAssigner(hostBridge, tiny).assign());
        assertTrue(e.getMessage().contains("00:05.0 ROM"), e.getMessage());
    }

    @Test
    void theRoutingFormulaRotatesOverEightGsis() {
        assertEquals(16, IntxRouting.gsi(0, 1));
        assertEquals(23, IntxRouting.gsi(7, 1));
        assertEquals(16, IntxRouting.gsi(8, 1));
        assertEquals(23, IntxRouting.gsi(31, 1));
        assertEquals(18, IntxRouting.gsi(31, 4));
        assertThrows(IllegalArgumentException.class, () -> IntxRouting.gsi(0, 0));
        assertThrows(IllegalArgumentException.class, () -> IntxRouting.gsi(32, 1));
        assertEquals(8, java.util.stream.IntStream.range(0, 32).map(s -> IntxRouting.gsi(s, 1)).boxed()
                .collect(Collectors.toSet()).size());
    }
}
