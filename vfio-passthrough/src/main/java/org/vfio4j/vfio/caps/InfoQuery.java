package org.vfio4j.vfio.caps;

import com.sun.jna.Memory;
import java.util.function.Consumer;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.sys.SyscallException;

/**
 * Runs a VFIO INFO ioctl whose struct starts with {@code argsz} and may be followed by a capability chain. When the
 * buffer is too small for the chain the kernel still succeeds, but writes the size it needs into {@code argsz} (and 0
 * into {@code cap_offset}); the query then repeats with that size. A kernel (or fake) that keeps asking for more is
 * cut off after a few rounds, and a request beyond {@link #MAX_ARGSZ} is refused, so the caller never loops or
 * allocates without bound.
 */
public final class InfoQuery {
    /** The largest info buffer we will allocate; real chains are a few hundred bytes. */
    public static final int MAX_ARGSZ = 1 << 20;
    private static final int MAX_ROUNDS = 4;

    private InfoQuery() {
    }

    /**
     * The info bytes after a successful query.
     *
     * @param bytes the buffer, of length {@code argsz} it was queried with
     * @param argsz the argsz the kernel reported in the last answer (may exceed {@code bytes.length} when the kernel
     *     kept growing it and we gave up)
     */
    public record Result(byte[] bytes, long argsz) {
        /** True when the last answer fitted (the capability chain, if any, is complete). */
        public boolean complete() {
            return argsz <= bytes.length;
        }
    }

    /**
     * Queries {@code request} on {@code fd}.
     *
     * @param fixedSize sizeof the fixed struct; the first query uses it
     * @param fill writes the input fields (an index) into a fresh zeroed buffer, after argsz is set
     * @param detail what is being queried, for error messages (e.g. {@code "region 2 (BAR2)"})
     * @throws SyscallException when the ioctl fails; it names {@code fd}, the ioctl, the detail and the errno
     */
    public static Result query(FileDescriptor fd, Ioctl request, int fixedSize, Consumer<Memory> fill, String detail) {
        int size = fixedSize;
        for (int round = 0; ; round++) {
            Memory mem = new Memory(size);
            mem.clear();
            mem.setInt(0, size);
            fill.accept(mem);
            int r = fd.ioctlRaw(request, mem);
            if (r < 0) {
                throw new SyscallException("ioctl", fd.name(), request.name(), -r, detail);
            }
            long wanted = Integer.toUnsignedLong(mem.getInt(0));
            byte[] bytes = mem.getByteArray(0, size);
            if (wanted <= size || round + 1 >= MAX_ROUNDS) {
                return new Result(bytes, wanted);
            }
            if (wanted > MAX_ARGSZ) {
                throw new SyscallException("ioctl", fd.name(), request.name(), Errno.E2BIG,
                        detail + ": kernel asked for argsz " + wanted + ", more than the " + MAX_ARGSZ
                                + " this library allows");
            }
            size = (int) wanted;
        }
    }
}
