package org.vfio4j.vfio.igd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Validation of the OpRegion header and of the extended VBT description. */
class OpRegionTest {

    @Test
    void parsesHeaderVersionAndMailboxes() {
        OpRegion op = OpRegion.parse(IgdRig.opRegion(2, 0, 0, 0), "t");
        assertEquals(8, op.sizeKiB());
        assertEquals(0x0200, op.version());
        assertEquals(0x17, op.mailboxes());
        assertFalse(op.hasExtendedVbt());
        assertEquals(0x2000, op.copySize());
        assertEquals("OpRegion 2.0, 8 KiB, mailboxes 0x17", op.toString());
    }

    @Test
    void version21WithRelativeRvdaCarriesTheVbt() {
        OpRegion op = OpRegion.parse(IgdRig.opRegion(3, 0, 0x2000, 0x2400), "t");
        assertTrue(op.hasExtendedVbt());
        assertEquals(0x4400, op.copySize());
        assertEquals(0x0300, op.version());
    }

    @Test
    void rvdaWithoutRvdsIsNoExtendedVbt() {
        OpRegion op = OpRegion.parse(IgdRig.opRegion(2, 1, 0x2000, 0), "t");
        assertFalse(op.hasExtendedVbt());
        assertEquals(0x2000, op.copySize());
    }

    @Test
    void version1xHasNoRvdaToLookAt() {
        byte[] b = IgdRig.opRegion(1, 0, 0x9999, 0x100);
        // the 0x100 extra bytes are ignored: RVDA/RVDS are not defined before 2.0
        assertEquals(0x2000, OpRegion.parse(b, "t").copySize());
    }

    @Test
    void refusals() {
        assertThrows(IllegalArgumentException.class, () -> OpRegion.parse(new byte[0x80], "t"));
        byte[] truncated = IgdRig.opRegion(2, 1, 0x2000, 0x800);
        byte[] shortRegion = java.util.Arrays.copyOf(truncated, 0x2400);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OpRegion.parse(shortRegion, "dev OpRegion"));
        assertTrue(e.getMessage().startsWith("dev OpRegion: extended VBT"), e.getMessage());
        byte[] sig = IgdRig.opRegion(2, 0, 0, 0);
        sig[15] = 0;
        e = assertThrows(IllegalArgumentException.class, () -> OpRegion.parse(sig, "t"));
        assertTrue(e.getMessage().contains("\"IntelGraphicsMe.\""), e.getMessage());
    }
}
