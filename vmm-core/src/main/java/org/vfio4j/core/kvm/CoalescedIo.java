package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.sys.SyscallException;

/**
 * KVM's coalesced I/O ring of one VM ({@code KVM_REGISTER_COALESCED_MMIO}): a guest write to a registered range
 * does not exit; KVM appends it to a ring in a page of every vCPU's mapping, and the VMM replays the queued writes,
 * in order, at the next exit of any vCPU, before it handles that exit. Only for registers whose writes have no effect
 * the guest could observe before its next access that exits: the PCI configuration address port 0xcf8 is the
 * classic one (the data port's access, which exits, is what uses it), as in QEMU's q35. Reads of a coalesced range
 * still exit normally.
 *
 * <p>The ring is drained by {@link VcpuThread} on every exit; draining is serialized per VM (several vCPUs see the
 * same ring), and checking an empty ring costs two reads of the mapped page.
 */
public final class CoalescedIo {
    private static final Logger LOG = LoggerFactory.getLogger(CoalescedIo.class);

    private final KvmVm vm;
    private final int ringOffset;
    private final boolean pio;
    private final Object drainLock = new Object();
    private volatile boolean used;

    CoalescedIo(KvmVm vm) {
        this.vm = vm;
        int page = vm.checkExtension(KvmAbi.Cap.COALESCED_MMIO);
        this.ringOffset = page > 0 ? page * 4096 : -1;
        this.pio = page > 0 && vm.checkExtension(KvmAbi.Cap.COALESCED_PIO) > 0;
    }

    /** True when this kernel can coalesce port I/O writes (KVM_CAP_COALESCED_PIO, Linux 4.19+). */
    public boolean pioSupported() {
        return pio;
    }

    /**
     * Coalesces guest writes to ports {@code [port, port + length)}: they reach the port bus's handler at the next
     * exit instead of exiting themselves.
     *
     * @return the registration; closing it unregisters the range (writes exit again)
     * @throws UnsupportedOperationException when {@link #pioSupported()} is false
     */
    public AutoCloseable registerPio(int port, int length) {
        if (!pio) {
            throw new UnsupportedOperationException("this kernel has no coalesced port I/O (KVM_CAP_COALESCED_PIO)");
        }
        zone(KvmAbi.KVM_REGISTER_COALESCED_MMIO, port, length);
        used = true;
        AtomicBoolean closed = new AtomicBoolean();
        return () -> {
            if (closed.compareAndSet(false, true) && vm.isOpen()) {
                zone(KvmAbi.KVM_UNREGISTER_COALESCED_MMIO, port, length);
            }
        };
    }

    private void zone(org.vfio4j.core.sys.Ioctl request, int port, int length) {
        Memory zone = new Memory(KvmAbi.Sizes.COALESCED_MMIO_ZONE);
        zone.clear();
        zone.setLong(KvmAbi.Coalesced.ZONE_ADDR, port);
        zone.setInt(KvmAbi.Coalesced.ZONE_SIZE, length);
        zone.setInt(KvmAbi.Coalesced.ZONE_PIO, 1);
        int r = vm.fd().ioctlRaw(request, zone);
        if (r < 0) {
            throw new SyscallException("ioctl", vm.fd().name(), request.name(), -r,
                    String.format("ports 0x%x+%d", port, length));
        }
    }

    /**
     * Replays the queued writes onto the buses, oldest first. {@code run} is a vCPU's mapping (whose page at the
     * ring offset is the VM's ring). Called on a vCPU thread at every exit; allocates nothing.
     */
    void drain(ByteBuffer run, TrapBus pioBus, TrapBus mmioBus) {
        if (!used) {
            return;
        }
        int ring = ringOffset;
        if (run.getInt(ring + KvmAbi.Coalesced.RING_FIRST) == run.getInt(ring + KvmAbi.Coalesced.RING_LAST)) {
            return;
        }
        synchronized (drainLock) {
            int first = run.getInt(ring + KvmAbi.Coalesced.RING_FIRST);
            int last = run.getInt(ring + KvmAbi.Coalesced.RING_LAST);
            VarHandle.acquireFence(); // the entries up to last were written before last
            while (first != last) {
                int e = ring + KvmAbi.Coalesced.RING_ENTRIES + first * KvmAbi.Sizes.COALESCED_MMIO;
                long address = run.getLong(e + KvmAbi.Coalesced.ENTRY_PHYS_ADDR);
                int len = run.getInt(e + KvmAbi.Coalesced.ENTRY_LEN);
                boolean isPio = run.getInt(e + KvmAbi.Coalesced.ENTRY_PIO) != 0;
                long data = run.getLong(e + KvmAbi.Coalesced.ENTRY_DATA);
                if (len > 0 && len < 8) {
                    data &= (1L << (8 * len)) - 1;
                }
                try {
                    (isPio ? pioBus : mmioBus).write(address, len, data);
                } catch (RuntimeException ex) {
                    LOG.error("coalesced {} write at 0x{} size {} threw; write dropped", isPio ? "pio" : "mmio",
                            Long.toHexString(address), len, ex);
                }
                first = (first + 1) % KvmAbi.COALESCED_MMIO_MAX;
                VarHandle.releaseFence(); // the entry is consumed before KVM may reuse it
                run.putInt(ring + KvmAbi.Coalesced.RING_FIRST, first);
            }
        }
    }
}
