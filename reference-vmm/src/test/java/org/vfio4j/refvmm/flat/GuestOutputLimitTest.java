package org.vfio4j.refvmm.flat;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A guest that prints without end cannot grow the VMM's memory without end (issue 15, item 10). */
class GuestOutputLimitTest {

    @Test
    void endlessOutputIsBoundedAndCounted() {
        GuestOutput out = new GuestOutput(Map::of);
        for (int i = 0; i < 3 * GuestOutput.MAX_TEXT / 8; i++) {
            out.write(0, 8, 0x6161616161616161L); // 3 MiB of 'a', no newline
        }
        for (int i = 0; i < GuestOutput.MAX_RESULTS + 10; i++) {
            out.write(0, 4, 0x78303d6bL); // "k=0x"
            out.write(0, 2, 0x0a31); // "1\n"
        }
        assertEquals(GuestOutput.MAX_TEXT, out.text().length(), "text kept");
        assertTrue(out.droppedBytes() >= 2L * GuestOutput.MAX_TEXT, "dropped bytes counted: " + out.droppedBytes());
        assertEquals(GuestOutput.MAX_RESULTS, out.results().size(), "results kept");
        assertEquals(1, out.value("k").orElseThrow());
    }
}
