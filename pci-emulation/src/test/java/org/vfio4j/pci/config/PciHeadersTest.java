package org.vfio4j.pci.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.vfio4j.pci.config.PciRegisters.*;

import org.junit.jupiter.api.Test;

/**
 * Register classes of the type 0 and type 1 headers, with the expected values written out from the PCI Local Bus
 * spec 3.0 ch. 6.2 and the PCI-to-PCI bridge spec 1.2 ch. 3.2 (not from the implementation's masks).
 */
class PciHeadersTest {
    private static final PciIdentity ID = new PciIdentity(0x8086, 0x10d3, 0x020000, 0x02, 0x1234, 0x5678);

    private static ConfigSpace type0(ConfigSpaceSize size) {
        return PciHeaders.type0("t0", size, ID, 1);
    }

    /** Writes all-ones then zero and returns {all-ones readback, zero readback}. */
    private static long[] probe(ConfigAccess cs, int offset, int size) {
        cs.write(offset, size, -1L);
        long ones = cs.read(offset, size);
        cs.write(offset, size, 0);
        return new long[] {ones, cs.read(offset, size)};
    }

    @Test
    void identityRegistersAreReadOnly() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        for (int off : new int[] {PCI_VENDOR_ID, PCI_DEVICE_ID, PCI_CLASS_REVISION, PCI_CLASS_REVISION + 2,
                PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBSYSTEM_ID}) {
            long before = cs.read(off, 2);
            long[] p = probe(cs, off, 2);
            assertEquals(before, p[0], "offset " + off);
            assertEquals(before, p[1], "offset " + off);
        }
        assertEquals(0x10d3_8086L, cs.read(0, 4));
        assertEquals(0x0200_0002L, cs.read(PCI_CLASS_REVISION, 4));
        assertEquals(0x5678_1234L, cs.read(PCI_SUBSYSTEM_VENDOR_ID, 4));
    }

    @Test
    void commandRegisterImplementsDecodeMasterParitySerrAndIntxDisableOnly() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        long[] p = probe(cs, PCI_COMMAND, 2);
        // I/O, memory, bus master, parity response, SERR#, INTx disable; bit 7 (stepping) is hardwired 0.
        assertEquals(0x0001 | 0x0002 | 0x0004 | 0x0040 | 0x0100 | 0x0400, p[0]);
        assertEquals(0, p[1]);
    }

    @Test
    void statusErrorBitsAreWriteOneToClearAndTheRestReadOnly() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        cs.setBits(PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
        for (int bit : new int[] {15, 14, 13, 12, 11, 8}) {
            PciHeaders.signalStatus(cs, 1 << bit);
            cs.write(PCI_STATUS, 2, 0);
            assertEquals(0x10 | 1 << bit, cs.read(PCI_STATUS, 2), "zero write keeps bit " + bit);
            cs.write(PCI_STATUS, 2, 1L << bit);
            assertEquals(0x10, cs.read(PCI_STATUS, 2), "one write clears bit " + bit);
        }
        cs.write(PCI_STATUS, 2, 0xFFFF);
        assertEquals(0x10, cs.read(PCI_STATUS, 2), "capability-list bit is read-only");
        assertThrows(IllegalArgumentException.class, () -> PciHeaders.signalStatus(cs, PCI_STATUS_CAP_LIST));
    }

    @Test
    void aDwordWriteToCommandAndStatusAppliesEachRegistersRules() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        PciHeaders.signalStatus(cs, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY);
        // Enable memory decode and clear only the master-abort bit, as Linux does with one dword write.
        cs.write(PCI_COMMAND, 4, (long) PCI_STATUS_REC_MASTER_ABORT << 16 | PCI_COMMAND_MEMORY);
        assertEquals(PCI_COMMAND_MEMORY, cs.read(PCI_COMMAND, 2));
        assertEquals(PCI_STATUS_DETECTED_PARITY, cs.read(PCI_STATUS, 2));
    }

    @Test
    void interruptStatusBitFollowsTheDeviceNotTheGuest() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        PciHeaders.setInterruptStatus(cs, true);
        cs.write(PCI_STATUS, 2, 0xFFFF);
        assertEquals(PCI_STATUS_INTERRUPT, cs.read(PCI_STATUS, 2));
        PciHeaders.setInterruptStatus(cs, false);
        assertEquals(0, cs.read(PCI_STATUS, 2));
    }

    @Test
    void interruptLineIsScratchAndPinReadOnly() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        cs.write(PCI_INTERRUPT_LINE, 1, 0x0B);
        assertEquals(0x0B, cs.read(PCI_INTERRUPT_LINE, 1));
        cs.write(PCI_INTERRUPT_PIN, 1, 0x04);
        assertEquals(1, cs.read(PCI_INTERRUPT_PIN, 1));
        assertThrows(IllegalArgumentException.class, () -> PciHeaders.type0("x", ConfigSpaceSize.EXTENDED, ID, 5));
    }

    @Test
    void latencyTimerIsHardwiredZeroOnPciExpressAndWritableOnPci() {
        assertEquals(0, probe(type0(ConfigSpaceSize.EXTENDED), PCI_LATENCY_TIMER, 1)[0]);
        assertEquals(0xFF, probe(type0(ConfigSpaceSize.CONVENTIONAL), PCI_LATENCY_TIMER, 1)[0]);
        assertEquals(0xFF, probe(type0(ConfigSpaceSize.EXTENDED), PCI_CACHE_LINE_SIZE, 1)[0]);
    }

    @Test
    void headerTypeBistCapabilityPointerAndUnimplementedBarsAreReadOnly() {
        ConfigSpace cs = type0(ConfigSpaceSize.EXTENDED);
        assertEquals(0, probe(cs, PCI_HEADER_TYPE, 1)[0]);
        assertEquals(0, probe(cs, PCI_BIST, 1)[0]);
        assertEquals(0, probe(cs, PCI_CAPABILITY_LIST, 1)[0]);
        for (int bar = 0; bar < 6; bar++) {
            assertEquals(0, probe(cs, PCI_BASE_ADDRESS_0 + 4 * bar, 4)[0], "unimplemented BAR " + bar);
        }
        assertEquals(0, probe(cs, PCI_ROM_ADDRESS, 4)[0]);
        assertEquals(0, probe(cs, PCI_CARDBUS_CIS, 4)[0]);
    }

    @Test
    void bridgeBusNumbersAndWindowsFollowTheBridgeSpec() {
        ConfigSpace cs = PciHeaders.type1("br", ConfigSpaceSize.EXTENDED, ID, 0);
        assertEquals(1, cs.read(PCI_HEADER_TYPE, 1));
        assertEquals(0xFF_FFFFL, probe(cs, PCI_PRIMARY_BUS, 4)[0] & 0xFF_FFFF, "three bus numbers are RW");
        assertEquals(0, probe(cs, PCI_SEC_LATENCY_TIMER, 1)[0], "hardwired on PCIe");
        // I/O base/limit: upper nibble RW, lower nibble read-only 1 (32-bit I/O).
        assertEquals(0xF1, probe(cs, PCI_IO_BASE, 1)[0]);
        assertEquals(0x01, probe(cs, PCI_IO_LIMIT, 1)[1]);
        assertEquals(0xFFFF, probe(cs, PCI_IO_BASE_UPPER16, 2)[0]);
        // Memory base/limit: bits 15:4 RW, 3:0 zero.
        assertEquals(0xFFF0, probe(cs, PCI_MEMORY_BASE, 2)[0]);
        assertEquals(0x0000, probe(cs, PCI_MEMORY_LIMIT, 2)[1]);
        // Prefetchable: bits 3:0 read-only 1 (64-bit), upper halves RW.
        assertEquals(0xFFF1, probe(cs, PCI_PREF_MEMORY_BASE, 2)[0]);
        assertEquals(0x0001, probe(cs, PCI_PREF_MEMORY_LIMIT, 2)[1]);
        assertEquals(0xFFFF_FFFFL, probe(cs, PCI_PREF_BASE_UPPER32, 4)[0]);
        assertEquals(0xFFFF_FFFFL, probe(cs, PCI_PREF_LIMIT_UPPER32, 4)[0]);
        // Bridge control: parity, SERR, ISA, VGA, VGA16, master abort, secondary reset.
        assertEquals(0x7F, probe(cs, PCI_BRIDGE_CONTROL, 2)[0]);
        assertEquals(0, probe(cs, PCI_ROM_ADDRESS1, 4)[0]);
        assertEquals(0x02, cs.read(PCI_CLASS_REVISION, 1));
    }

    @Test
    void bridgeSecondaryStatusErrorBitsAreWriteOneToClear() {
        ConfigSpace cs = PciHeaders.type1("br", ConfigSpaceSize.CONVENTIONAL, ID, 0);
        cs.setWord(PCI_SEC_STATUS, 0xF920);
        cs.write(PCI_SEC_STATUS, 2, 0xFFFF);
        assertEquals(0x0020, cs.read(PCI_SEC_STATUS, 2));
        assertEquals(0xFF, probe(cs, PCI_SEC_LATENCY_TIMER, 1)[0], "RW on conventional PCI");
    }

    @Test
    void multiFunctionBitIsSetAndClearedByTheOwner() {
        ConfigSpace cs = type0(ConfigSpaceSize.CONVENTIONAL);
        PciHeaders.setMultiFunction(cs, true);
        assertEquals(0x80, cs.read(PCI_HEADER_TYPE, 1));
        assertEquals(0, PciHeaders.headerType(cs));
        PciHeaders.setMultiFunction(cs, false);
        assertEquals(0, cs.read(PCI_HEADER_TYPE, 1));
    }

    @Test
    void identityFieldsAreRangeChecked() {
        assertThrows(IllegalArgumentException.class, () -> PciIdentity.of(0xFFFF, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> PciIdentity.of(1, 0, 0x100_0000, 0));
    }
}
