package org.vfio4j.vfio.testing;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One region of a {@link FakeVfioDevice}: flags, size, contents, and the capabilities the fake kernel reports for it.
 * Contents are a byte array (regions up to 64 MiB); reads and writes through pread/pwrite and through fake mmaps go
 * to it.
 */
public final class FakeRegion {
    /** Largest region the fake backs with memory. */
    public static final long MAX_BACKED = 64L << 20;

    final int index;
    final int flags;
    final long size;
    final byte[] contents;
    final List<FakeCapability> caps = new ArrayList<>();
    int failErrno;

    FakeRegion(int index, long size, int flags) {
        if (size > MAX_BACKED) {
            throw new IllegalArgumentException("fake regions are at most " + MAX_BACKED + " bytes");
        }
        this.index = index;
        this.size = size;
        this.flags = flags;
        this.contents = new byte[(int) size];
    }

    /** The region contents, live (writes through the fake kernel show up here). */
    public byte[] contents() {
        return contents;
    }

    /** The region's flags as reported (CAPS is added by the fake when capabilities exist). */
    public int flags() {
        return flags;
    }

    /** Adds a capability with raw body bytes (what follows the 8-byte header), reported in insertion order. */
    public FakeRegion cap(int id, int version, byte[] body) {
        caps.add(new FakeCapability(id, version, body));
        return this;
    }

    /** Adds a {@code VFIO_REGION_INFO_CAP_SPARSE_MMAP} with (offset, size) pairs. */
    public FakeRegion sparseMmap(long... offsetSizePairs) {
        int n = offsetSizePairs.length / 2;
        ByteBuffer b = ByteBuffer.allocate(8 + 16 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(n).putInt(0);
        for (long v : offsetSizePairs) {
            b.putLong(v);
        }
        return cap(VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, b.array());
    }

    /** Adds a {@code VFIO_REGION_INFO_CAP_TYPE}. */
    public FakeRegion type(int type, int subtype) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(subtype);
        return cap(VFIO_REGION_INFO_CAP_TYPE, 1, b.array());
    }

    /** Adds a {@code VFIO_REGION_INFO_CAP_MSIX_MAPPABLE} (header only). */
    public FakeRegion msixMappable() {
        return cap(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, new byte[0]);
    }

    /** Makes every pread/pwrite of this region fail with {@code errno} (e.g. EIO after a surprise removal). */
    public FakeRegion failAccesses(int errno) {
        this.failErrno = errno;
        return this;
    }

    /** Little-endian accessor over the contents, for tests. */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(contents).order(ByteOrder.LITTLE_ENDIAN);
    }
}
