package org.vfio4j.pci.msix;

import org.vfio4j.pci.config.ConfigChange;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/** MSI-X capability, table and PBA semantics (PCI 3.0 section 6.8.2) and the changes guest writes return. */
class MsixCapabilityTest {
    private final List<MsiMessage> sent = new ArrayList<>();
    private final List<String> events = new ArrayList<>();
    private ConfigSpace cs;
    private MsixCapability msix;
    private TrapHandler table;
    private TrapHandler pba;
    private int off;

    @BeforeEach
    void setUp() {
        cs = PciHeaders.type0("msix-dev", ConfigSpaceSize.EXTENDED, PciIdentity.of(1, 2, 0x020000, 0), 1);
        msix = new MsixCapability(70, 2, 0x2000, 2, 0x3000, sent::add);
        off = new CapabilityList(cs).add(msix);
        table = msix.tableHandler();
        pba = msix.pbaHandler();
    }

    /** A guest table write, recording the change it returns. */
    private void tableWrite(long offset, int size, long value) {
        ConfigChange.MsixVectorChanged c = msix.writeTable(offset, size, value);
        if (c != null) {
            int v = c.vector();
            events.add("vec " + v + " " + msix.message(v) + " masked " + msix.isVectorMasked(v));
        }
    }

    /** A guest config write, recording the changes it returns. */
    private void cfgWrite(int offset, int size, long value) {
        for (ConfigChange c : cs.guestWrite(offset, size, value)) {
            ConfigChange.MsixControlChanged ctl = (ConfigChange.MsixControlChanged) c;
            events.add("ctl " + ctl.enabled() + " " + ctl.functionMasked());
        }
    }

    private void program(int vector, long address, int data) {
        table.write(vector * 16L, 4, address & 0xFFFF_FFFFL);
        table.write(vector * 16L + 4, 4, address >>> 32);
        table.write(vector * 16L + 8, 4, data & 0xFFFF_FFFFL);
    }

    @Test
    void capabilityRegistersDescribeTableAndPbaAndOnlyControlBitsAreWritable() {
        assertEquals(69, cs.read(off + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE);
        assertEquals(0x2002, cs.read(off + PCI_MSIX_TABLE, 4));
        assertEquals(0x3002, cs.read(off + PCI_MSIX_PBA, 4));
        cs.write(off + PCI_MSIX_FLAGS, 2, 0xFFFF);
        assertEquals(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 69, cs.read(off + PCI_MSIX_FLAGS, 2));
        cs.write(off + PCI_MSIX_TABLE, 4, 0);
        cs.write(off + PCI_MSIX_PBA, 4, 0);
        assertEquals(0x2002, cs.read(off + PCI_MSIX_TABLE, 4));
        assertEquals(0x3002, cs.read(off + PCI_MSIX_PBA, 4));
        assertEquals(70 * 16, msix.tableBytes());
        assertEquals(16, msix.pbaBytes(), "70 bits round up to two qwords");
    }

    @Test
    void entriesStartMaskedAndOnlyTheMaskBitOfVectorControlIsWritable() {
        for (int v = 0; v < 70; v++) {
            assertEquals(1, table.read(v * 16L + 12, 4), "vector " + v);
        }
        table.write(12, 4, 0xFFFF_FFFFL);
        assertEquals(1, table.read(12, 4));
        table.write(12, 4, 0);
        assertEquals(0, table.read(12, 4));
    }

    @Test
    void tableTakesAlignedDwordAndQwordAccessesOnly() {
        table.write(16, 8, 0x0000_0001_FEE0_0000L);
        assertEquals(0xFEE0_0000L, table.read(16, 4));
        assertEquals(0x1, table.read(20, 4));
        assertEquals(0x0000_0001_FEE0_0000L, table.read(16, 8));
        assertEquals(0xFFFFL, table.read(16, 2), "word access");
        assertEquals(0xFFL, table.read(16, 1), "byte access");
        assertEquals(0xFFFF_FFFFL, table.read(18, 4), "misaligned dword");
        assertEquals(-1L, table.read(20, 8), "misaligned qword");
        assertEquals(0xFFFF_FFFFL, table.read(70 * 16, 4), "past the table");
        table.write(16, 2, 0);
        table.write(18, 4, 0);
        assertEquals(0x0000_0001_FEE0_0000L, table.read(16, 8), "bad writes dropped");
    }

    @Test
    void enabledUnmaskedVectorsSendTheirMessage() {
        program(5, 0xFEE0_2000L, 0x31);
        assertFalse(msix.trigger(5), "MSI-X disabled");
        cs.write(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
        assertFalse(msix.trigger(5), "entry still masked");
        table.write(5 * 16 + 12, 4, 0);
        assertTrue(msix.trigger(5));
        assertEquals(List.of(new MsiMessage(0xFEE0_2000L, 0x31), new MsiMessage(0xFEE0_2000L, 0x31)), sent,
                "the pended message was sent on unmask, then the new one");
        assertFalse(msix.trigger(70));
        assertFalse(msix.trigger(-1));
    }

    @Test
    void functionMaskPendsEveryVectorAndClearingItDeliversThePending() {
        for (int v : new int[] {0, 65}) {
            program(v, 0xFEE0_0000L, 0x40 + v);
            table.write(v * 16L + 12, 4, 0);
        }
        cs.write(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        assertFalse(msix.trigger(0));
        assertFalse(msix.trigger(65));
        assertTrue(msix.isPending(0));
        assertEquals(0x1, pba.read(0, 8));
        assertEquals(0x2, pba.read(8, 8), "vector 65 is bit 1 of the second qword");
        assertEquals(0x2, pba.read(8, 4));
        assertEquals(0, pba.read(12, 4));
        pba.write(0, 8, 0);
        assertEquals(0x1, pba.read(0, 8), "PBA is read-only");
        assertTrue(sent.isEmpty());
        cs.write(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
        assertEquals(List.of(new MsiMessage(0xFEE0_0000L, 0x40), new MsiMessage(0xFEE0_0000L, 0x81)), sent);
        assertFalse(msix.isPending(0));
        assertEquals(0, pba.read(8, 8));
    }

    @Test
    void writesReturnControlAndVectorChanges() {
        cfgWrite(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        tableWrite(3 * 16, 4, 0xFEE0_0000L);
        tableWrite(3 * 16 + 4, 4, 0);  // no change: nothing returned
        tableWrite(3 * 16 + 8, 4, 0x55);
        tableWrite(3 * 16 + 12, 4, 0);
        tableWrite(3 * 16 + 12, 4, 0); // no change
        tableWrite(3 * 16 + 8, 4, 0x55); // the same message again
        cfgWrite(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
        cfgWrite(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
        assertEquals(List.of("ctl true true", "vec 3 MSI[addr=0xfee00000 data=0x0] masked true",
                "vec 3 MSI[addr=0xfee00000 data=0x55] masked true", "vec 3 MSI[addr=0xfee00000 data=0x55] masked false",
                "ctl true false"), events);
    }

    @Test
    void whileDisabledTableWritesOnlyChangeTheTable() {
        tableWrite(3 * 16, 4, 0xFEE0_0000L);
        tableWrite(3 * 16 + 8, 4, 0x55);
        tableWrite(3 * 16 + 12, 4, 0);
        tableWrite(5 * 16 + 8, 8, 0x1_0000_0077L); // data 0x77 and vector control 1 (masked) in one qword
        assertTrue(events.isEmpty(), "no table write returns a change while MSI-X is disabled: " + events);
        assertEquals(new MsiMessage(0xFEE0_0000L, 0x55), msix.message(3));
        assertFalse(msix.isVectorMasked(3));
        assertEquals(0x77, msix.message(5).data());
        assertTrue(msix.isVectorMasked(5));
        cfgWrite(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
        assertEquals(List.of("ctl true false"), events, "enabling is the owner's cue to read the table");
    }

    @Test
    void aTableWriteThatChangesNothingAllocatesNothing() {
        cs.write(off + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
        table.write(12, 4, 1);
        // enabled, entry 0 masked: rewriting its data with the same value is the no-op case
        long masked = Allocation.leastPerWindow(100_000, () -> table.write(8, 4, 0x1234));
        cs.write(off + PCI_MSIX_FLAGS, 2, 0);
        int[] i = {0};
        long disabled = Allocation.leastPerWindow(100_000, () -> table.write(16 + 8, 4, i[0]++));
        assertEquals(0, masked, "bytes allocated by unchanged writes to a masked entry");
        assertEquals(0, disabled, "bytes allocated by table writes while MSI-X is disabled");
        assertEquals(0x1234, msix.message(0).data());
        assertEquals(i[0] - 1, msix.message(1).data(), "the writes did reach the table");
    }

    @Test
    void placementIsValidated() {
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(0, 0, 0, 0, 0x100, m -> { }));
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(2049, 0, 0, 0, 0x10000, m -> { }));
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(4, 0, 4, 0, 0x100, m -> { }));
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(16, 0, 0, 0, 0x80, m -> { }),
                "PBA inside the table");
        assertThrows(IllegalArgumentException.class, () -> new MsixCapability(4, 6, 0, 0, 0x100, m -> { }));
    }
}
