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

    /** Maps anonymous memory (guest RAM, scratch), shared so that the kernel can pin it for DMA and KVM. */
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
