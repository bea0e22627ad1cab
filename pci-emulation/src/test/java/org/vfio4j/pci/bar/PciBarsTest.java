package org.vfio4j.pci.bar;

import org.vfio4j.pci.config.ConfigChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/** The BAR sizing protocol for each BAR kind, and the moves and decode changes guest writes return. */
class PciBarsTest {
    private static final PciIdentity ID = PciIdentity.of(0x1af4, 0x1000, 0x020000, 0);

    private static ConfigSpace cs() {
        return PciHeaders.type0("dev", ConfigSpaceSize.EXTENDED, ID, 1);
    }

    /** The guest's sizing step: save, write all-ones, read, restore. */
    private static long size(ConfigSpace cs, int reg) {
        long orig = cs.read(reg, 4);
        cs.write(reg, 4, 0xFFFF_FFFFL);
        long mask = cs.read(reg, 4);
        cs.write(reg, 4, orig);
        assertEquals(orig, cs.read(reg, 4), "restored");
        return mask;
    }

    @Test
    void ioBarReadsBackSizeMaskWithTheIoFlag() {
        ConfigSpace cs = cs();
        new PciBars(cs).define(BarDefinition.io(0, 32));
        assertEquals(0x1, cs.read(PCI_BASE_ADDRESS_0, 4), "flags: I/O space, bit 1 reserved zero");
        assertEquals(0xFFFF_FFE1L, size(cs, PCI_BASE_ADDRESS_0));
    }

    @Test
    void memory32BarReadsBackSizeMaskAndItsFlags() {
        ConfigSpace cs = cs();
        PciBars bars = new PciBars(cs);
        bars.define(BarDefinition.memory32(1, 4096));
        bars.define(new BarDefinition(2, BarType.MEMORY32, 1 << 20, true));
        assertEquals(0xFFFF_F000L, size(cs, PCI_BASE_ADDRESS_0 + 4));
        assertEquals(0xFFF0_0008L, size(cs, PCI_BASE_ADDRESS_0 + 8), "prefetchable flag stays");
    }

    @Test
    void memory64BarSizesBothHalves() {
        ConfigSpace cs = cs();
        new PciBars(cs).define(BarDefinition.memory64(2, 8L << 30, true));
        int lo = PCI_BASE_ADDRESS_0 + 8;
        assertEquals(0x0000_000CL, cs.read(lo, 4), "64-bit, prefetchable");
        assertEquals(0x0000_000CL, size(cs, lo), "8 GiB: no low address bits are writable");
        assertEquals(0xFFFF_FFFEL, size(cs, lo + 4));
        new PciBars(cs()).definition(0); // no BAR defined there
    }

    @Test
    void romBarSizesWithTheEnableBitWritableAndReservedBitsZero() {
        ConfigSpace cs = cs();
        PciBars bars = new PciBars(cs);
        bars.defineRom(64 * 1024);
        // Linux writes ~PCI_ROM_ADDRESS_ENABLE to size a ROM.
        cs.write(PCI_ROM_ADDRESS, 4, 0xFFFF_FFFEL);
        assertEquals(0xFFFF_0000L, cs.read(PCI_ROM_ADDRESS, 4));
        cs.write(PCI_ROM_ADDRESS, 4, 0xFFFF_FFFFL);
        assertEquals(0xFFFF_0001L, cs.read(PCI_ROM_ADDRESS, 4));
        assertThrows(IllegalArgumentException.class, () -> bars.defineRom(1024));
    }

    @Test
    void bridgeHasTwoBarsAndItsRomAt0x38() {
        ConfigSpace cs = PciHeaders.type1("br", ConfigSpaceSize.EXTENDED, ID, 0);
        PciBars bars = new PciBars(cs);
        assertEquals(2, bars.registerCount());
        bars.define(BarDefinition.memory32(1, 4096));
        bars.defineRom(2048);
        assertEquals(0xFFFF_F000L, size(cs, PCI_BASE_ADDRESS_0 + 4));
        cs.write(PCI_ROM_ADDRESS1, 4, 0xFFFF_FFFEL);
        assertEquals(0xFFFF_F800L, cs.read(PCI_ROM_ADDRESS1, 4));
        assertEquals(0, cs.read(PCI_ROM_ADDRESS, 4), "0x30 is the I/O upper base on a bridge, not a ROM");
        assertThrows(IllegalArgumentException.class, () -> bars.define(BarDefinition.memory64(1, 4096, false)));
    }

    @Test
    void definitionsAreCheckedAgainstTheSpec() {
        PciBars bars = new PciBars(cs());
        bars.define(BarDefinition.memory64(4, 4096, false));
        assertThrows(IllegalArgumentException.class, () -> bars.define(BarDefinition.memory32(5, 4096)),
                "upper half of BAR 4");
        assertThrows(IllegalArgumentException.class, () -> BarDefinition.memory64(5, 4096, false));
        assertThrows(IllegalArgumentException.class, () -> BarDefinition.io(0, 512));
        assertThrows(IllegalArgumentException.class, () -> BarDefinition.memory32(0, 3000));
        assertThrows(IllegalArgumentException.class, () -> BarDefinition.memory32(0, 8));
        assertThrows(IllegalArgumentException.class, () -> new BarDefinition(0, BarType.IO, 16, true));
    }

    @Test
    void guestWritesReturnMovesAndDecodeChanges() {
        ConfigSpace cs = cs();
        PciBars bars = new PciBars(cs);
        bars.define(BarDefinition.io(0, 32));
        bars.define(BarDefinition.memory64(2, 1 << 20, false));
        bars.defineRom(4096);
        List<String> events = new ArrayList<>();
        java.util.function.Consumer<List<ConfigChange>> record = changes -> changes.forEach(c -> events.add(
                c instanceof ConfigChange.BarMoved m ? "move " + m.index() + " " + Long.toHexString(m.oldAddress())
                        + "->" + Long.toHexString(m.newAddress())
                : c instanceof ConfigChange.DecodeChanged d ? (d.memory() ? "mem " : "io ") + d.enabled()
                : c instanceof ConfigChange.RomEnableChanged r ? "rom " + r.enabled() : c.toString()));
        record.accept(cs.guestWrite(PCI_BASE_ADDRESS_0, 4, 0xC001));
        record.accept(cs.guestWrite(PCI_BASE_ADDRESS_0 + 8, 4, 0xFE00_0000L));
        record.accept(cs.guestWrite(PCI_BASE_ADDRESS_0 + 12, 4, 0x1));
        record.accept(cs.guestWrite(PCI_BASE_ADDRESS_0 + 12, 4, 0x1)); // same value: no change
        record.accept(cs.guestWrite(PCI_ROM_ADDRESS, 4, 0xFD00_0001L));
        record.accept(cs.guestWrite(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
        record.accept(cs.guestWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY));
        assertEquals(List.of("move 0 0->c000", "move 2 0->fe000000", "move 2 fe000000->1fe000000",
                "move 6 0->fd000000", "rom true", "mem true", "io true", "io false"), events);
        assertEquals(0x1_FE00_0000L, bars.address(2));
        assertTrue(bars.isDecoding(2));
        assertFalse(bars.isDecoding(0), "I/O decode is off");
        assertTrue(bars.isDecoding(PciBars.ROM));
    }

    @Test
    void aBarDecodesOnlyWithItsSpaceEnabledAndARealAddress() {
        ConfigSpace cs = cs();
        PciBars bars = new PciBars(cs);
        bars.define(BarDefinition.memory32(1, 4096));
        bars.define(BarDefinition.memory64(2, 4096, true));
        bars.defineRom(4096);
        cs.write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
        assertFalse(bars.isDecoding(1), "address 0 is unassigned");
        cs.write(PCI_BASE_ADDRESS_0 + 4, 4, 0xFFFF_FFFFL);
        assertFalse(bars.isDecoding(1), "the sizing pattern is not an address");
        cs.write(PCI_BASE_ADDRESS_0 + 4, 4, 0xE000_0000L);
        assertTrue(bars.isDecoding(1));
        cs.write(PCI_BASE_ADDRESS_0 + 8, 4, 0xFFFF_FFFFL);
        cs.write(PCI_BASE_ADDRESS_0 + 12, 4, 0xFFFF_FFFFL);
        assertFalse(bars.isDecoding(2), "64-bit sizing pattern");
        cs.write(PCI_ROM_ADDRESS, 4, 0xE010_0000L);
        assertFalse(bars.isDecoding(PciBars.ROM), "ROM needs its own enable bit");
        cs.write(PCI_COMMAND, 2, 0);
        assertFalse(bars.isDecoding(1));
        assertFalse(bars.isDecoding(3), "not implemented");
    }

    @Test
    void barRegistersAreEmulatedForPassthrough() {
        ConfigSpace cs = cs();
        cs.setEmulatedRange(0, 256, false);
        PciBars bars = new PciBars(cs);
        bars.define(BarDefinition.memory64(0, 4096, false));
        bars.defineRom(2048);
        assertEquals(0xFFFF_FFFFL, cs.emulatedMask(PCI_BASE_ADDRESS_0, 4));
        assertEquals(0xFFFF_FFFFL, cs.emulatedMask(PCI_BASE_ADDRESS_0 + 4, 4));
        assertEquals(0xFFFF_FFFFL, cs.emulatedMask(PCI_ROM_ADDRESS, 4));
        assertEquals(0, cs.emulatedMask(PCI_BASE_ADDRESS_0 + 8, 4));
    }
}
