package org.vfio4j.vfio.caps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The chain walker on buffers a kernel would never produce: every fault must end the walk with a problem recorded,
 * keep what was read before, and never throw or spin.
 */
class CapabilityChainTest {
    private static final int FIXED = 32; // sizeof(struct vfio_region_info)

    /** A 128-byte info buffer; caps are written with {@link #cap}. */
    private static ByteBuffer info() {
        return ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void cap(ByteBuffer b, int at, int id, int version, long next) {
        b.putShort(at, (short) id).putShort(at + 2, (short) version).putInt(at + 4, (int) next);
    }

    @Test
    void wellFormedChainIsReadInOrderWithEachCapsBytes() {
        ByteBuffer b = info();
        cap(b, 32, 2, 1, 48);
        b.putInt(40, 0x80008086).putInt(44, 1);
        cap(b, 48, 3, 1, 0);
        CapabilityChain c = CapabilityChain.walk(b.array(), 56, FIXED, 32);
        assertEquals(List.of(), c.problems());
        assertEquals(2, c.capabilities().size());
        RawCapability first = c.capabilities().get(0);
        assertEquals(2, first.id());
        assertEquals(1, first.version());
        assertEquals(32, first.offset());
        assertEquals(16, first.length(), "runs to the next capability");
        assertEquals(0x80008086, first.buffer().getInt(8));
        assertEquals(8, c.capabilities().get(1).length(), "the last runs to the end of the valid bytes");
        assertEquals(3, c.find(3).id());
    }

    @Test
    void offsetOutsideTheBufferStopsTheWalk() {
        ByteBuffer b = info();
        cap(b, 32, 1, 1, 0x10000);
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 32);
        assertEquals(1, c.capabilities().size());
        assertEquals(1, c.problems().size());
        assertTrue(c.problems().get(0).contains("outside"), c.problems().toString());
    }

    @Test
    void headerStraddlingTheEndIsOutside() {
        ByteBuffer b = info();
        cap(b, 32, 1, 1, 124); // 124 + 8 > 128
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 32);
        assertEquals(1, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("0x7c"), c.problems().toString());
    }

    @Test
    void unsignedNextFarAwayIsOutsideNotNegative() {
        ByteBuffer b = info();
        cap(b, 32, 1, 1, 0xfffffff8L);
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 32);
        assertEquals(1, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("0xfffffff8"), c.problems().toString());
    }

    @Test
    void misalignedOffsetStopsTheWalk() {
        ByteBuffer b = info();
        cap(b, 32, 1, 1, 42);
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 32);
        assertEquals(1, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("misaligned"), c.problems().toString());
    }

    @Test
    void fourByteAlignedOffsetIsAcceptedAsOlderKernelsProduceIt() {
        ByteBuffer b = info();
        cap(b, 32, 3, 1, 44); // a 12-byte cap: next one 4-aligned
        cap(b, 44, 1, 1, 0);
        CapabilityChain c = CapabilityChain.walk(b.array(), 60, FIXED, 32);
        assertEquals(List.of(), c.problems());
        assertEquals(2, c.capabilities().size());
    }

    @Test
    void loopIsDetected() {
        ByteBuffer b = info();
        cap(b, 32, 1, 1, 48);
        cap(b, 48, 2, 1, 32);
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 32);
        assertEquals(2, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("loop"), c.problems().toString());
    }

    @Test
    void selfLoopIsDetected() {
        ByteBuffer b = info();
        cap(b, 40, 1, 1, 40);
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 40);
        assertEquals(1, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("loop"));
    }

    @Test
    void offsetIntoTheFixedStructIsRejected() {
        ByteBuffer b = info();
        CapabilityChain c = CapabilityChain.walk(b.array(), 128, FIXED, 8);
        assertEquals(0, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("fixed info struct"), c.problems().toString());
    }

    @Test
    void unknownIdIsKeptRaw() {
        ByteBuffer b = info();
        cap(b, 32, 0x7777, 9, 0);
        b.putLong(40, 0x1122334455667788L);
        CapabilityChain c = CapabilityChain.walk(b.array(), 48, FIXED, 32);
        RawCapability raw = c.capabilities().get(0);
        assertEquals(0x7777, raw.id());
        assertEquals(9, raw.version());
        byte[] expected = new byte[16];
        System.arraycopy(b.array(), 32, expected, 0, 16);
        assertArrayEquals(expected, raw.bytes());
    }

    @Test
    void bytesPastTheValidLimitAreNotRead() {
        ByteBuffer b = info();
        cap(b, 32, 1, 1, 64); // next lies beyond the 48 valid bytes
        cap(b, 64, 2, 1, 0);
        CapabilityChain c = CapabilityChain.walk(b.array(), 48, FIXED, 32);
        assertEquals(1, c.capabilities().size());
        assertEquals(16, c.capabilities().get(0).length());
        assertEquals(1, c.problems().size());
    }

    @Test
    void longChainOfDistinctCapsTerminates() {
        // Every slot points to the next and the last back to the first: bounded by the buffer, ends as a loop.
        byte[] big = new byte[4096];
        ByteBuffer b = ByteBuffer.wrap(big).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 32; at < 4096; at += 8) {
            cap(b, at, 1, 1, at + 8 < 4096 ? at + 8 : 32);
        }
        CapabilityChain c = CapabilityChain.walk(big, big.length, FIXED, 32);
        assertEquals((4096 - 32) / 8, c.capabilities().size());
        assertTrue(c.problems().get(0).contains("loop"));
    }

    @Test
    void randomBuffersNeverThrowAndStayInBounds() {
        java.util.Random random = new java.util.Random(20261121);
        int capsSeen = 0;
        for (int round = 0; round < 20000; round++) {
            int len = 32 + random.nextInt(200);
            byte[] buf = new byte[len];
            random.nextBytes(buf);
            ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
            // Bias the next pointers towards plausible offsets so chains get long, loop and run off the end.
            for (int at = 32; at + 8 <= len; at += 4) {
                if (random.nextInt(3) == 0) {
                    b.putInt(at + 4, 28 + 4 * random.nextInt(len / 4));
                }
            }
            long first = random.nextInt(4) == 0 ? random.nextLong() & 0xffffffffL : 32 + 4 * random.nextInt(len / 4);
            CapabilityChain c = CapabilityChain.walk(buf, len, FIXED, first);
            assertTrue(c.capabilities().size() <= (len - FIXED) / 4, "each offset is visited at most once");
            for (RawCapability raw : c.capabilities()) {
                assertTrue(raw.offset() >= FIXED && raw.offset() + raw.length() <= len, raw.toString());
                // Decoders must cope with whatever bytes a capability holds.
                assertEquals(raw, org.vfio4j.vfio.region.RegionCapability.decode(raw).raw());
                assertEquals(raw, org.vfio4j.vfio.iommu.IommuCapability.decode(raw).raw());
                capsSeen++;
            }
        }
        assertTrue(capsSeen > 10000, "the random chains must actually contain capabilities: " + capsSeen);
    }
}
