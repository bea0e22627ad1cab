package org.vfio4j.core.sys;

import com.sun.jna.Pointer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A range of the process's address space created by mmap. It owns the range: {@link #close()} unmaps it exactly
 * once, and closing again does nothing. Accessors are bounds-checked against the mapping.
 */
public final class MemoryMapping implements AutoCloseable {
    private final Syscalls sys;
    private final long address;
    private final long length;
    private final String name;
    private final Pointer pointer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MemoryMapping(Syscalls sys, long address, long length, String name) {
        this.sys = sys;
        this.address = address;
        this.length = length;
        this.name = name;
        this.pointer = new Pointer(address);
    }

    /** Maps part of a file, shared. */
    public static MemoryMapping map(Syscalls sys, FileDescriptor file, long offset, long length, int prot) {
        long r = sys.mmap(0, length, prot, Linux.MAP_SHARED, file.fd(), offset);
        String name = String.format("%s offset 0x%x size 0x%x", file.name(), offset, length);
        if (r < 0) {
            throw new SyscallException("mmap", name, null, (int) -r);
        }
        return new MemoryMapping(sys, r, length, name);
    }

    /**
     * Maps guest RAM as QEMU does: private anonymous memory, aligned to 2 MiB and advised {@code MADV_HUGEPAGE}, so
     * the kernel backs it with transparent huge pages, and {@code MADV_DONTFORK}, so a forked child's copy-on-write
     * never moves a page that KVM or the IOMMU maps. Shared anonymous memory (what {@link #anonymous} gives) is shmem,
     * which gets no huge pages unless the administrator enables them for shmem: pinning 64 MiB of it for DMA, one 4 KiB
     * page fault at a time, was 92 % of a device's attach in the testbed. The advice is best effort: a kernel without
     * THP still maps the memory, with small pages.
     */
    public static MemoryMapping guestRam(Syscalls sys, long length, String name) {
        long align = length >= Linux.HUGE_PAGE_SIZE ? Linux.HUGE_PAGE_SIZE : Linux.PAGE_SIZE;
        long reserved = length + align - Linux.PAGE_SIZE;
        long r = sys.mmap(0, reserved, Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_PRIVATE | Linux.MAP_ANONYMOUS | Linux.MAP_NORESERVE, -1, 0);
        if (r < 0) {
            throw new SyscallException("mmap", name + String.format(" size 0x%x", length), null,
                    (int) -r);
        }
        long start = (r + align - 1) & -align;
        // Give back what the alignment did not use, before and after (munmap of an unused range cannot fail).
        if (start > r) {
            sys.munmap(r, start - r);
        }
        if (r + reserved > start + length) {
            sys.munmap(start + length, r + reserved - start - length);
        }
        sys.madvise(start, length, Linux.MADV_HUGEPAGE);
        sys.madvise(start, length, Linux.MADV_DONTFORK);
        return new MemoryMapping(sys, start, length, name);
    }

    /** Maps anonymous memory (scratch, fake BARs), shared so that the kernel can pin it for DMA and KVM. */
    public static MemoryMapping anonymous(Syscalls sys, long length, String name) {
        long r = sys.mmap(0, length, Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_SHARED | Linux.MAP_ANONYMOUS | Linux.MAP_NORESERVE, -1, 0);
        if (r < 0) {
            throw new SyscallException("mmap", "anonymous " + name + String.format(" size 0x%x", length), null,
                    (int) -r);
        }
        return new MemoryMapping(sys, r, length, name);
    }

    /** The host virtual address of the first byte. */
    public long address() {
        return address;
    }

    public long length() {
        return length;
    }

    public String name() {
        return name;
    }

    /** A JNA pointer to the first byte; valid until {@link #close()}. */
    public Pointer pointer() {
        return pointer;
    }

    public boolean isClosed() {
        return closed.get();
    }

    private void check(long offset, int size) {
        if (closed.get()) {
            throw new IllegalStateException("mapping closed: " + name);
        }
        if (offset < 0 || size < 0 || offset > length - size) {
            throw new IndexOutOfBoundsException(String.format("offset 0x%x size %d outside %s", offset, size, name));
        }
    }

    public byte getByte(long offset) {
        check(offset, 1);
        return pointer.getByte(offset);
    }

    public short getShort(long offset) {
        check(offset, 2);
        return pointer.getShort(offset);
    }

    public int getInt(long offset) {
        check(offset, 4);
        return pointer.getInt(offset);
    }

    public long getLong(long offset) {
        check(offset, 8);
        return pointer.getLong(offset);
    }

    public void setByte(long offset, byte value) {
        check(offset, 1);
        pointer.setByte(offset, value);
    }

    public void setShort(long offset, short value) {
        check(offset, 2);
        pointer.setShort(offset, value);
    }

    public void setInt(long offset, int value) {
        check(offset, 4);
        pointer.setInt(offset, value);
    }

    public void setLong(long offset, long value) {
        check(offset, 8);
        pointer.setLong(offset, value);
    }

    public void read(long offset, byte[] dst, int dstOffset, int count) {
        check(offset, count);
        pointer.read(offset, dst, dstOffset, count);
    }

    public void write(long offset, byte[] src, int srcOffset, int count) {
        check(offset, count);
        pointer.write(offset, src, srcOffset, count);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            int r = sys.munmap(address, length);
            if (r < 0) {
                throw new SyscallException("munmap", name, null, -r);
            }
        }
    }

    @Override
    public String toString() {
        return String.format("%s at 0x%x", name, address);
    }
}
