package org.vfio4j.vfio.igd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Device id families and the GMCH/BDSM layout per generation. */
class IgdGenerationTest {
    private static final long MIB = 1L << 20;

    @Test
    void deviceIdsMapToTheirGeneration() {
        int[][] cases = {
            {0x0102, 6}, {0x0166, 6}, // Sandy Bridge, Ivy Bridge
            {0x0412, 7}, {0x0a16, 7}, {0x0d26, 7}, {0x0f31, 7}, // Haswell, Bay Trail
            {0x1616, 8}, {0x22b0, 8}, // Broadwell, Cherryview
            {0x1912, 9}, {0x5912, 9}, {0x3e92, 9}, {0x9bc5, 9}, {0x3185, 9}, // SKL, KBL, CFL, CML, GLK
            {0x0a84, 9}, {0x1a84, 9}, {0x1a85, 9}, {0x5a84, 9}, {0x5a85, 9}, // Broxton/Apollo Lake before Haswell
            {0x8a52, 11}, {0x4571, 11}, {0x4e61, 11}, // ICL, EHL, JSL
            {0x9a49, 12}, {0x4c8a, 12}, {0x4680, 12}, {0xa780, 12}}; // TGL, RKL, ADL, RPL
        for (int[] c : cases) {
            assertEquals(OptionalInt.of(c[1]), IgdGeneration.of(c[0]), String.format("0x%04x", c[0]));
        }
        assertEquals("Broxton/Apollo Lake", IgdGeneration.family(0x5a85));
        assertEquals("Haswell", IgdGeneration.family(0x0a16));
        for (int unknown : new int[] {0x7d55, 0x2a42, 0x0000, 0x56a0}) {
            assertEquals(OptionalInt.empty(), IgdGeneration.of(unknown), String.format("0x%04x", unknown));
        }
    }

    @Test
    void stolenSizeFollowsTheGmsEncodingOfEachGeneration() {
        // Gen 6/7: GMS is bits 7:3, 32 MiB units.
        assertEquals(2, IgdGeneration.gms(6, 0x0210));
        assertEquals(64 * MIB, IgdGeneration.stolenBytes(7, 0x0210));
        // Gen 8: bits 15:8, 32 MiB units.
        assertEquals(0x40 * 32 * MIB, IgdGeneration.stolenBytes(8, 0x40c0));
        // Gen 9+: 0xf0.. are 4 MiB steps from 4 MiB.
        assertEquals(32 * MIB, IgdGeneration.stolenBytes(9, 0x01c0));
        assertEquals(4 * MIB, IgdGeneration.stolenBytes(9, 0xf0c0));
        assertEquals(60 * MIB, IgdGeneration.stolenBytes(12, 0xfe00));
        assertEquals(0, IgdGeneration.stolenBytes(11, 0x00c0));
    }

    @Test
    void gmsReplacementKeepsTheOtherBitsAndChecksTheRange() {
        assertEquals(0x0302 | 3 << 3, IgdGeneration.withGms(6, 0x0302 | 0x1f << 3, 3));
        assertEquals(0xf1c2, IgdGeneration.withGms(9, 0x01c2, 0xf1));
        assertTrue(IgdGeneration.validGms(6, 0x10));
        assertFalse(IgdGeneration.validGms(6, 0x11));
        assertFalse(IgdGeneration.validGms(8, 0xf0), "4 MiB steps start at generation 9");
        assertFalse(IgdGeneration.validGms(9, 0xff));
        assertThrows(IllegalArgumentException.class, () -> IgdGeneration.withGms(8, 0, 0x41));
    }

    @Test
    void bdsmMovesTo64BitsAt0xC0OnGeneration11() {
        assertEquals(0x5C, IgdGeneration.bdsmOffset(9));
        assertEquals(4, IgdGeneration.bdsmSize(9));
        assertEquals(0xC0, IgdGeneration.bdsmOffset(11));
        assertEquals(8, IgdGeneration.bdsmSize(12));
    }
}
