package org.vfio4j.vfio.region;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.errors.VfioException;
import org.vfio4j.vfio.uapi.VfioConstants;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts;

/**
 * Access to one region of a VFIO device: pread/pwrite on the device fd at the region's offset, at any size and
 * offset the region allows, and mmap of the whole region or of its sparse areas. It doesn't own the device fd; the
 * mappings it creates are owned by the caller.
 *
 * <p>The scalar accessors ({@link #read(long, int)}, {@link #write(long, int, long)}) are the trapped-access path
 * (config space, I/O BARs, trapped MMIO): they go through an 8-byte native buffer owned by the calling thread and a
 * pread/pwrite with primitive arguments, so in steady state a trapped access allocates nothing.
 */
public final class VfioRegion {
    /** One 8-byte native buffer per thread for the scalar accessors; a vCPU thread keeps its own for its life. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final FileDescriptor device;
    private final RegionInfo info;

    /**
     * @param device the device fd (not owned)
     * @param info the region's info, from {@code VFIO_DEVICE_GET_REGION_INFO} on that device
     */
    public VfioRegion(FileDescriptor device, RegionInfo info) {
        this.device = device;
        this.info = info;
    }

    /** The region's info. */
    public RegionInfo info() {
        return info;
    }

    /** The region's size. */
    public long size() {
        return info.size();
    }

    private String where(long offset, long count) {
        return String.format("region %s offset 0x%x size %d", info.name(), offset, count);
    }

    private void check(long offset, long count, boolean write) {
        if (write ? !info.writable() : !info.readable()) {
            throw new VfioException(device.name() + ": region " + info.name() + " does not support "
                    + (write ? "write" : "read"));
        }
        if (offset < 0 || count < 0 || offset > info.size() - count) {
            throw new VfioException(String.format("%s: access at offset 0x%x size %d is outside region %s (size 0x%x)",
                    device.name(), offset, count, info.name(), info.size()));
        }
    }

    /** Reads {@code count} bytes at {@code offset} of the region into {@code dst[dstOffset..]}. */
    public void read(long offset, byte[] dst, int dstOffset, int count) {
        check(offset, count, false);
        if (count == 0) {
            return;
        }
        Memory m = new Memory(count);
        long r = device.preadRaw(m, count, info.offset() + offset);
        if (r != count) {
            throw new SyscallException("pread", device.name(), null, r < 0 ? (int) -r : Errno.EIO,
                    where(offset, count) + (r >= 0 ? ", short read " + r : ""));
        }
        m.read(0, dst, dstOffset, count);
    }

    /** Writes {@code count} bytes from {@code src[srcOffset..]} at {@code offset} of the region. */
    public void write(long offset, byte[] src, int srcOffset, int count) {
        check(offset, count, true);
        if (count == 0) {
            return;
        }
        Memory m = new Memory(count);
        m.write(0, src, srcOffset, count);
        long r = device.pwriteRaw(m, count, info.offset() + offset);
        if (r != count) {
            throw new SyscallException("pwrite", device.name(), null, r < 0 ? (int) -r : Errno.EIO,
                    where(offset, count) + (r >= 0 ? ", short write " + r : ""));
        }
    }

    /**
     * Reads a little-endian value of {@code size} bytes (1, 2, 4 or 8) at {@code offset}, zero-extended. One pread of
     * exactly that size, which is what device registers need.
     */
    public long read(long offset, int size) {
        checkSize(size);
        check(offset, size, false);
        Scratch s = SCRATCH.get();
        s.view.putLong(0, 0);
        long r = device.syscalls().pread(device.fd(), s.address, size, info.offset() + offset);
        if (r != size) {
            throw new SyscallException("pread", device.name(), null, r < 0 ? (int) -r : Errno.EIO,
                    where(offset, size) + (r >= 0 ? ", short read " + r : ""));
        }
        return s.view.getLong(0);
    }

    /** Writes the low {@code size} bytes (1, 2, 4 or 8) of {@code value}, little-endian, in one pwrite. */
    public void write(long offset, int size, long value) {
        checkSize(size);
        check(offset, size, true);
        Scratch s = SCRATCH.get();
        s.view.putLong(0, value);
        long r = device.syscalls().pwrite(device.fd(), s.address, size, info.offset() + offset);
        if (r != size) {
            throw new SyscallException("pwrite", device.name(), null, r < 0 ? (int) -r : Errno.EIO,
                    where(offset, size) + (r >= 0 ? ", short write " + r : ""));
        }
    }

    /**
     * {@code VFIO_DEVICE_IOEVENTFD}: whenever {@code trigger} is signalled, the kernel writes the low {@code size}
     * bytes (1, 2, 4 or 8) of {@code data} at {@code offset} of this region, without the VMM. Paired with a KVM
     * ioeventfd on the same eventfd with a datamatch ({@code KvmVm.ioeventfd}), a guest write of that value to the
     * trapped register never leaves the kernel: the way to keep a write-only register with a fixed value pattern (a
     * doorbell, a GPU quirk's window) off the exit path. vfio-pci takes BAR regions only, not the MSI-X table.
     *
     * @return the registration; closing it de-assigns (the eventfd stays open and owned by the caller)
     * @throws SyscallException naming the region and offset when the kernel refuses (EINVAL for a region or width it
     *     does not support, ENOTTY on kernels before 4.17)
     */
    public AutoCloseable ioeventfd(long offset, int size, long data, org.vfio4j.core.sys.EventFd trigger) {
        checkSize(size);
        check(offset, size, true);
        int width = switch (size) {
            case 1 -> VfioConstants.VFIO_DEVICE_IOEVENTFD_8;
            case 2 -> VfioConstants.VFIO_DEVICE_IOEVENTFD_16;
            case 4 -> VfioConstants.VFIO_DEVICE_IOEVENTFD_32;
            default -> VfioConstants.VFIO_DEVICE_IOEVENTFD_64;
        };
        long value = size == 8 ? data : data & ((1L << (8 * size)) - 1);
        deviceIoEventFd(width, offset, value, trigger.fd());
        java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (closed.compareAndSet(false, true) && !device.isClosed()) {
                deviceIoEventFd(width, offset, value, -1);
            }
        };
    }

    private void deviceIoEventFd(int width, long offset, long data, int fd) {
        Memory arg = new Memory(VfioLayouts.DeviceIoEventFd.SIZE);
        arg.clear();
        arg.setInt(VfioLayouts.DeviceIoEventFd.ARGSZ, VfioLayouts.DeviceIoEventFd.SIZE);
        arg.setInt(VfioLayouts.DeviceIoEventFd.FLAGS, width);
        arg.setLong(VfioLayouts.DeviceIoEventFd.OFFSET, info.offset() + offset);
        arg.setLong(VfioLayouts.DeviceIoEventFd.DATA, data);
        arg.setInt(VfioLayouts.DeviceIoEventFd.FD, fd);
        int r = device.ioctlRaw(VfioIoctls.VFIO_DEVICE_IOEVENTFD, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", device.name(), VfioIoctls.VFIO_DEVICE_IOEVENTFD.name(), -r,
                    where(offset, 1 << Integer.numberOfTrailingZeros(width))
                            + String.format(" data 0x%x %s", data, fd < 0 ? "(de-assign)" : "eventfd " + fd));
        }
    }

    /**
     * A thread's native buffer: little-endian, so the low {@code size} bytes of a long are the first {@code size}
     * bytes, which is what a pread/pwrite of {@code size} bytes moves (x86-64 is little-endian, as PCI is).
     */
    private static final class Scratch {
        final Memory memory = new Memory(8);
        final long address = Pointer.nativeValue(memory);
        final ByteBuffer view = memory.getByteBuffer(0, 8).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new IllegalArgumentException("access size must be 1, 2, 4 or 8: " + size);
        }
    }

    /**
     * Maps {@code size} bytes at {@code offset} of the region. The range must lie inside one of
     * {@link RegionInfo#mmapAreas()} and be page aligned. Protection follows the region's read/write flags.
     */
    public MemoryMapping mmap(long offset, long size) {
        if (!info.mmappable()) {
            throw new VfioException(device.name() + ": region " + info.name() + " does not support mmap");
        }
        if (size <= 0 || (offset & (Linux.PAGE_SIZE - 1)) != 0 || (size & (Linux.PAGE_SIZE - 1)) != 0) {
            throw new VfioException(String.format("%s: mmap of region %s at 0x%x size 0x%x is not page aligned",
                    device.name(), info.name(), offset, size));
        }
        boolean inside = false;
        for (SparseArea a : info.mmapAreas()) {
            if (offset >= a.offset() && size <= a.size() && offset - a.offset() <= a.size() - size) {
                inside = true;
                break;
            }
        }
        if (!inside) {
            throw new VfioException(String.format("%s: mmap of region %s at 0x%x size 0x%x is outside its mmap areas %s",
                    device.name(), info.name(), offset, size, info.mmapAreas()));
        }
        int prot = (info.readable() ? Linux.PROT_READ : 0) | (info.writable() ? Linux.PROT_WRITE : 0);
        return device.mmap(info.offset() + offset, size, prot);
    }

    /** Maps one sparse area (or the whole-region area of {@link RegionInfo#mmapAreas()}). */
    public MemoryMapping mmap(SparseArea area) {
        return mmap(area.offset(), area.size());
    }

    /**
     * Maps every mmap area of the region: the sparse areas, or the whole region. Empty when the region can't be
     * mmapped. If one fails, those already made are unmapped before the exception propagates.
     */
    public List<MemoryMapping> mmapAll() {
        List<MemoryMapping> out = new ArrayList<>();
        try {
            for (SparseArea a : info.mmapAreas()) {
                if (a.size() > 0) {
                    out.add(mmap(a));
                }
            }
            return out;
        } catch (RuntimeException e) {
            Closer.closeAfter(e, out.toArray(new AutoCloseable[0]));
            throw e;
        }
    }

    @Override
    public String toString() {
        return device.name() + " " + info;
    }
}
