package org.vfio4j.vfio.irq;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import com.sun.jna.Memory;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.vfio.uapi.VfioIoctls;
import org.vfio4j.vfio.uapi.VfioLayouts.IrqSet;

/**
 * {@code VFIO_DEVICE_SET_IRQS} on one device fd: eventfd triggers per vector, mask, unmask, disable, and the INTx
 * resample (unmask-on-eventfd) form. Each failure names the device, the IRQ index and vector range, and the errno.
 */
public final class IrqControl {
    /** Data value that unassigns a vector's eventfd. */
    public static final int NO_EVENTFD = -1;

    private final FileDescriptor device;

    /** Controls the IRQs of {@code device} (not owned). */
    public IrqControl(FileDescriptor device) {
        this.device = device;
    }

    /**
     * Assigns eventfds to vectors {@code start .. start + fds.length - 1} of {@code index}; an fd of
     * {@link #NO_EVENTFD} unassigns that vector. For MSI/MSI-X this also enables the index with that many vectors.
     */
    public void trigger(int index, int start, int... fds) {
        Memory data = new Memory(Math.max(4L * fds.length, 1));
        for (int i = 0; i < fds.length; i++) {
            data.setInt(4L * i, fds[i]);
        }
        set(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index, start, fds.length, data, 4L * fds.length);
    }

    /** As {@link #trigger(int, int, int...)} with {@link EventFd}s; a null entry unassigns that vector. */
    public void trigger(int index, int start, EventFd... eventFds) {
        int[] fds = new int[eventFds.length];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = eventFds[i] == null ? NO_EVENTFD : eventFds[i].fd();
        }
        trigger(index, start, fds);
    }

    /** Unassigns the eventfds of {@code count} vectors from {@code start} (the index stays enabled). */
    public void unassign(int index, int start, int count) {
        int[] fds = new int[count];
        java.util.Arrays.fill(fds, NO_EVENTFD);
        trigger(index, start, fds);
    }

    /** Disables the whole index: DATA_NONE | ACTION_TRIGGER with start 0 and count 0. */
    public void disable(int index) {
        set(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 0, null, 0);
    }

    /** Fires the vectors from user space (DATA_NONE | ACTION_TRIGGER, count > 0): a loopback test of the eventfds. */
    public void fire(int index, int start, int count) {
        set(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index, start, count, null, 0);
    }

    /** Masks {@code count} vectors from {@code start}. */
    public void mask(int index, int start, int count) {
        set(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, index, start, count, null, 0);
    }

    /** Unmasks {@code count} vectors from {@code start} (for INTx: after the guest's EOI). */
    public void unmask(int index, int start, int count) {
        set(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, index, start, count, null, 0);
    }

    /**
     * Makes the kernel unmask vector {@code start} of {@code index} whenever {@code fd} is signalled
     * (DATA_EVENTFD | ACTION_UNMASK): the resample fd of a KVM irqfd for INTx. {@link #NO_EVENTFD} removes it.
     */
    public void unmaskOnEventfd(int index, int start, int fd) {
        Memory data = new Memory(4);
        data.setInt(0, fd);
        set(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, index, start, 1, data, 4);
    }

    /**
     * The raw SET_IRQS: {@code flags} (one DATA_* and one ACTION_*), the vector range and {@code dataSize} bytes of
     * {@code data} (null for DATA_NONE).
     */
    public void set(int flags, int index, int start, int count, Memory data, long dataSize) {
        int argsz = IrqSet.SIZE + (int) dataSize;
        Memory m = new Memory(argsz);
        m.clear();
        m.setInt(IrqSet.ARGSZ, argsz);
        m.setInt(IrqSet.FLAGS, flags);
        m.setInt(IrqSet.INDEX, index);
        m.setInt(IrqSet.START, start);
        m.setInt(IrqSet.COUNT, count);
        if (data != null && dataSize > 0) {
            m.write(IrqSet.DATA, data.getByteArray(0, (int) dataSize), 0, (int) dataSize);
        }
        int r = device.ioctlRaw(VfioIoctls.VFIO_DEVICE_SET_IRQS, m);
        if (r < 0) {
            throw new SyscallException("ioctl", device.name(), VfioIoctls.VFIO_DEVICE_SET_IRQS.name(), -r,
                    String.format("IRQ index %s (%d) start %d count %d flags 0x%x", PciIrqs.name(index), index,
                            start, count, flags));
        }
    }
}
