package org.vfio4j.vfio.platform;

import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_REGION_INFO_FLAG_MMAP;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_REGION_INFO_FLAG_READ;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_REGION_INFO_FLAG_WRITE;

import org.vfio4j.vfio.region.RegionInfo;

/**
 * One region of a vfio-platform device as the kernel reports it: the device's {@code index}-th memory (or I/O-port)
 * resource. vfio-platform sets READ on memory resources, WRITE unless the resource is read-only, MMAP only when its
 * base and size are page-aligned, and no flag at all on an I/O-port resource (which it cannot access).
 *
 * @param info the kernel's region info (offset {@code index << 40})
 */
public record PlatformRegion(RegionInfo info) {

    /** The region index. */
    public int index() {
        return info.index();
    }

    /** The size in bytes. */
    public long size() {
        return info.size();
    }

    /** The kernel's {@code VFIO_REGION_INFO_FLAG_*}. */
    public int flags() {
        return info.flags();
    }

    /** Can be mmapped (page-aligned base and size). */
    public boolean mmappable() {
        return (info.flags() & VFIO_REGION_INFO_FLAG_MMAP) != 0;
    }

    /** Writable (not a read-only resource). */
    public boolean writable() {
        return (info.flags() & VFIO_REGION_INFO_FLAG_WRITE) != 0;
    }

    /** An I/O-port resource: neither readable nor writable through VFIO. */
    public boolean ioPort() {
        return (info.flags() & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) == 0;
    }

    @Override
    public String toString() {
        return String.format("region %d: size 0x%x offset 0x%x %s%s", index(), size(), info.offset(),
                ioPort() ? "io-port (not accessible)" : writable() ? "rw" : "ro", mmappable() ? " mmap" : "");
    }
}
