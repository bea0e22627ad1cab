package org.vfio4j.vfio.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Lays out a capability chain the way the kernel's {@code vfio_info_cap_add}/{@code vfio_info_cap_shift} do: each
 * capability appended after the previous one, its {@code next} linked from the previous header, and all offsets
 * shifted by the size of the fixed info struct. Without padding, as the 6.1 kernel does (a 12-byte dma-avail
 * capability leaves the next one only 4-byte aligned); later kernels pad to 8, which {@code align8} reproduces.
 */
public final class CapChainBuilder {
    private CapChainBuilder() {
    }

    /** The chain bytes for {@code caps}, to be placed at offset {@code shift} of the info buffer. */
    public static byte[] build(List<FakeCapability> caps, int shift, boolean align8) {
        int size = 0;
        int[] at = new int[caps.size()];
        for (int i = 0; i < caps.size(); i++) {
            at[i] = size;
            size += 8 + caps.get(i).body().length;
            if (align8) {
                size = (size + 7) & ~7;
            }
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < caps.size(); i++) {
            FakeCapability c = caps.get(i);
            b.putShort(at[i], (short) c.id());
            b.putShort(at[i] + 2, (short) c.version());
            b.putInt(at[i] + 4, i + 1 < caps.size() ? at[i + 1] + shift : 0);
            b.put(at[i] + 8, c.body());
        }
        return b.array();
    }
}
