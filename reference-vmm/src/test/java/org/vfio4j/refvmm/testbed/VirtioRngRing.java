package org.vfio4j.refvmm.testbed;

import com.sun.jna.Pointer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Drives a virtio-rng device behind a legacy (version 1) virtio-mmio transport from the host side, through its VFIO
 * region, so that the device raises its own interrupt: one locked page holds the virtqueue (QueueAlign 256, so
 * descriptors, available and used ring fit in it) and the buffers, and the device DMAs to its physical address
 * (read from /proc/self/pagemap: in the no-IOMMU mode the device sees host-physical addresses). Each
 * {@link #request()} offers one 16-byte buffer and notifies the queue; the device fills it, updates the used ring and
 * raises its interrupt (InterruptStatus bit 0).
 */
final class VirtioRngRing implements AutoCloseable {
    private static final int MAP_LOCKED = 0x2000;
    private static final int MAP_POPULATE = 0x8000;
    private static final int PAGE = 4096;
    private static final int QUEUE_SIZE = 8;
    private static final int ALIGN = 256;
    private static final int AVAIL = 16 * QUEUE_SIZE;
    private static final int USED = ALIGN;
    private static final int BUFFERS = 1024;
    private static final int BUFFER_SIZE = 16;

    private final Syscalls sys;
    private final VfioRegion regs;
    private final long address;
    private final Pointer page;
    private final long physical;
    private int offered;

    VirtioRngRing(Syscalls sys, VfioRegion regs) {
        this.sys = sys;
        this.regs = regs;
        this.address = sys.mmap(0, PAGE, Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
        if (address < 0 && address > -4096) {
            throw new IllegalStateException("mmap of the ring page failed: errno " + -address);
        }
        this.page = new Pointer(address);
        page.clear(PAGE);
        this.physical = physicalAddress(address);
        if (regs.read(0x04, 4) != 1) {
            throw new IllegalStateException("not a legacy virtio-mmio transport: version " + regs.read(0x04, 4));
        }
        regs.write(0x70, 4, 0);                 // Status: reset
        regs.write(0x70, 4, 1 | 2);             // ACKNOWLEDGE | DRIVER
        regs.write(0x24, 4, 0);                 // GuestFeaturesSel
        regs.write(0x20, 4, 0);                 // GuestFeatures: none
        regs.write(0x28, 4, PAGE);              // GuestPageSize
        regs.write(0x30, 4, 0);                 // QueueSel 0
        long max = regs.read(0x34, 4);          // QueueNumMax
        if (max < QUEUE_SIZE) {
            throw new IllegalStateException("queue 0 holds only " + max + " entries");
        }
        regs.write(0x38, 4, QUEUE_SIZE);        // QueueNum
        regs.write(0x3c, 4, ALIGN);             // QueueAlign
        regs.write(0x40, 4, physical / PAGE);   // QueuePFN
        regs.write(0x70, 4, 1 | 2 | 4);         // DRIVER_OK
    }

    /** The page's physical address. */
    long physical() {
        return physical;
    }

    /** Offers the next buffer (device-writable) and notifies queue 0. */
    void request() {
        int i = offered % QUEUE_SIZE;
        long desc = 16L * i;
        page.setLong(desc, physical + BUFFERS + (long) BUFFER_SIZE * i);
        page.setInt(desc + 8, BUFFER_SIZE);
        page.setShort(desc + 12, (short) 2);    // VRING_DESC_F_WRITE
        page.setShort(desc + 14, (short) 0);
        page.setShort(AVAIL + 4 + 2L * i, (short) i);
        offered++;
        page.setShort(AVAIL + 2, (short) offered); // avail.idx, after the entry (x86 keeps stores in order)
        regs.write(0x50, 4, 0);                 // QueueNotify
    }

    /** The used ring's index: how many buffers the device has filled. */
    int used() {
        return page.getShort(USED + 2) & 0xffff;
    }

    /** Buffer {@code i} as the device filled it. */
    byte[] buffer(int i) {
        return page.getByteArray(BUFFERS + (long) BUFFER_SIZE * i, BUFFER_SIZE);
    }

    @Override
    public void close() {
        regs.write(0x70, 4, 0);                 // reset: the device forgets the ring before the page goes
        sys.munmap(address, PAGE);
    }

    private static long physicalAddress(long virtual) {
        try (FileChannel pagemap = FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
            ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            pagemap.read(entry, (virtual / PAGE) * 8);
            long e = entry.getLong(0);
            if (e >= 0 || (e & ((1L << 55) - 1)) == 0) {
                throw new IllegalStateException(String.format("page 0x%x not present or its frame hidden "
                        + "(pagemap 0x%x; needs root)", virtual, e));
            }
            return (e & ((1L << 55) - 1)) * PAGE;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
