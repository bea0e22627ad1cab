package org.vfio4j.core.kvm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.Syscalls;

/**
 * Runs one vCPU on its own thread: KVM_RUN in a loop, dispatching port I/O and MMIO exits to the trap buses and
 * counting every exit by reason. The loop ends on HLT (without in-kernel irqchip), SHUTDOWN, FAIL_ENTRY,
 * INTERNAL_ERROR, an unhandled exit, or {@link #stop()}; {@link #stopped()} tells why.
 *
 * <p>{@link #stop()} sets {@code immediate_exit}, then signals the thread ({@link VcpuKicker}) until it leaves, and
 * joins it.
 *
 * <p>The exit path allocates nothing: {@code kvm_run} is read and answered through one direct buffer
 * ({@link KvmVcpu#runBuffer()}), KVM_RUN is an ioctl with primitive arguments whose errno is read only when it fails,
 * and the exit counters are plain longs that only this thread writes (published with opaque stores, so another
 * thread reads a recent count without a lock or an atomic read-modify-write on the path).
 */
public final class VcpuThread implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VcpuThread.class);

    private final KvmVcpu vcpu;
    private final TrapBus pio;
    private final TrapBus mmio;
    private final Syscalls sys;
    private final Thread thread;
    private static final VarHandle COUNTS = MethodHandles.arrayElementVarHandle(long[].class);
    /** Exits by reason; written only by the vCPU thread. */
    private final long[] exits = new long[KvmAbi.Exit.COUNT];
    private final CompletableFuture<VcpuStop> stopped = new CompletableFuture<>();
    private final CompletableFuture<Integer> tid = new CompletableFuture<>();
    private volatile boolean stopRequested;

    /** Prepares (does not start) the run loop of {@code vcpu} over the given buses. */
    public VcpuThread(KvmVcpu vcpu, TrapBus pio, TrapBus mmio) {
        this.vcpu = vcpu;
        this.pio = pio;
        this.mmio = mmio;
        this.sys = vcpu.vm().syscalls();
        VcpuKicker.install(sys);
        this.thread = new Thread(this::loop, "vcpu-" + vcpu.id());
        thread.setDaemon(true);
    }

    /** Starts the thread. */
    public VcpuThread start() {
        thread.start();
        return this;
    }

    /** True when called on this loop's thread (from a trap handler). */
    public boolean isCurrentThread() {
        return Thread.currentThread() == thread;
    }

    /** The vCPU this loop runs. */
    public KvmVcpu vcpu() {
        return vcpu;
    }

    /** Completes when the loop ends, with the reason. */
    public CompletableFuture<VcpuStop> stopped() {
        return stopped;
    }

    /** How many exits with {@code reason} ({@link KvmAbi.Exit}) this vCPU has taken. */
    public long exitCount(int reason) {
        return (long) COUNTS.getOpaque(exits, bucket(reason));
    }

    private static int bucket(int reason) {
        return Math.min(Math.max(reason, 0), KvmAbi.Exit.COUNT - 1);
    }

    /** Counts one exit; called on the vCPU thread only (single writer, so no atomic increment is needed). */
    private void count(int reason) {
        int i = bucket(reason);
        COUNTS.setOpaque(exits, i, exits[i] + 1);
    }

    /** Exit counts by reason name, non-zero ones only, in reason order. */
    public Map<String, Long> exitCounts() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < exits.length; i++) {
            long n = (long) COUNTS.getOpaque(exits, i);
            if (n != 0) {
                out.put(KvmAbi.Exit.name(i), n);
            }
        }
        return out;
    }

    private void loop() {
        tid.complete(sys.gettid());
        VcpuStop stop;
        try {
            stop = runUntilStop();
        } catch (RuntimeException | Error e) {
            LOG.error("vcpu {}: run loop failed", vcpu.id(), e);
            stop = new VcpuStop(VcpuStop.Cause.ERROR, -1, "vcpu " + vcpu.id() + ": " + e);
        }
        if (stop.isFailure()) {
            LOG.error("vcpu {} stopped: {} {}", vcpu.id(), stop.cause(), stop.detail());
        } else {
            LOG.debug("vcpu {} stopped: {} {}", vcpu.id(), stop.cause(), stop.detail());
        }
        stopped.complete(stop);
    }

    /**
     * The loop: nothing but the stop check and one {@link #step} per exit. The work of an exit is a method of its own
     * because HotSpot compiles by invocation count: {@code step} is compiled (C2) within the first few thousand exits
     * of the first VM, whereas a loop body inlined here ran interpreted, then in C1's profiling tier, until the loop's
     * back-edge counter crossed the on-stack-replacement thresholds, which a VMM that makes a new thread per vCPU and
     * VM reaches only after some hundred thousand exits (seen in the testbed benchmark, -XX:+PrintCompilation).
     */
    private VcpuStop runUntilStop() {
        ByteBuffer run = vcpu.runBuffer();
        while (!stopRequested) {
            VcpuStop stop = step(run);
            if (stop != null) {
                return stop;
            }
        }
        return new VcpuStop(VcpuStop.Cause.REQUESTED, -1, "stop requested");
    }

    /** One KVM_RUN and the exit it returned with; null to run again, else why the loop ends. */
    private VcpuStop step(ByteBuffer run) {
        int r = vcpu.runOnce();
        if (r < 0) {
            if (-r == Errno.EINTR || -r == Errno.EAGAIN) {
                count(KvmAbi.Exit.INTR);
                return null;
            }
            return new VcpuStop(VcpuStop.Cause.ERROR, -1, String.format("vcpu %d: KVM_RUN failed: %s (%d)",
                    vcpu.id(), Errno.name(-r), -r));
        }
        int reason = run.getInt(KvmAbi.Run.EXIT_REASON);
        count(reason);
        CoalescedIo coalesced = vcpu.vm().coalescedIoIfUsed();
        if (coalesced != null) {
            coalesced.drain(run, pio, mmio); // writes queued by KVM happened before this exit
        }
        switch (reason) {
            case KvmAbi.Exit.IO -> handleIo(run);
            case KvmAbi.Exit.MMIO -> handleMmio(run);
            case KvmAbi.Exit.INTR, KvmAbi.Exit.IRQ_WINDOW_OPEN -> {
            }
            default -> {
                return stopOn(reason, run);
            }
        }
        return null;
    }

    /** An exit the loop does not handle: why it ends (a halt, a shutdown, an entry failure, an unknown exit). */
    private VcpuStop stopOn(int reason, ByteBuffer run) {
        return switch (reason) {
            case KvmAbi.Exit.HLT -> new VcpuStop(VcpuStop.Cause.HALTED, reason, "vcpu " + vcpu.id() + " halted");
            case KvmAbi.Exit.SHUTDOWN -> new VcpuStop(VcpuStop.Cause.SHUTDOWN, reason, "vcpu " + vcpu.id()
                    + ": shutdown (triple fault) at " + safeRegisters());
            case KvmAbi.Exit.SYSTEM_EVENT -> new VcpuStop(VcpuStop.Cause.SYSTEM_EVENT, reason, "vcpu " + vcpu.id()
                    + ": system event type " + run.getInt(KvmAbi.Run.SYSTEM_EVENT_TYPE));
            case KvmAbi.Exit.FAIL_ENTRY -> new VcpuStop(VcpuStop.Cause.FAIL_ENTRY, reason, String.format(
                    "vcpu %d: KVM_EXIT_FAIL_ENTRY, hardware entry failure reason 0x%x on cpu %d (%s)", vcpu.id(),
                    run.getLong(KvmAbi.Run.FAIL_ENTRY_REASON), run.getInt(KvmAbi.Run.FAIL_ENTRY_CPU),
                    safeRegisters()));
            case KvmAbi.Exit.INTERNAL_ERROR -> new VcpuStop(VcpuStop.Cause.INTERNAL_ERROR, reason,
                    internalError(run));
            default -> new VcpuStop(VcpuStop.Cause.UNHANDLED_EXIT, reason, String.format(
                    "vcpu %d: unhandled exit KVM_EXIT_%s (%d) at %s", vcpu.id(), KvmAbi.Exit.name(reason), reason,
                    safeRegisters()));
        };
    }

    private String internalError(ByteBuffer run) {
        int suberror = run.getInt(KvmAbi.Run.INTERNAL_SUBERROR);
        int ndata = Math.min(run.getInt(KvmAbi.Run.INTERNAL_NDATA), 16);
        StringBuilder sb = new StringBuilder(String.format("vcpu %d: KVM_EXIT_INTERNAL_ERROR suberror %d (%s)",
                vcpu.id(), suberror, switch (suberror) {
                    case 1 -> "EMULATION";
                    case 2 -> "SIMUL_EX";
                    case 3 -> "DELIVERY_EV";
                    case 4 -> "UNEXPECTED_EXIT_REASON";
                    default -> "unknown";
                }));
        sb.append(", data [");
        for (int i = 0; i < ndata; i++) {
            sb.append(i == 0 ? "" : " ").append(String.format("0x%x", run.getLong(KvmAbi.Run.INTERNAL_DATA + 8 * i)));
        }
        return sb.append("] at ").append(safeRegisters()).toString();
    }

    private String safeRegisters() {
        try {
            return vcpu.registers() + " " + vcpu.specialRegisters();
        } catch (RuntimeException e) {
            return "(registers unavailable: " + e.getMessage() + ")";
        }
    }

    /**
     * One KVM_EXIT_IO: {@code count} accesses of {@code size} bytes at one port (count > 1 for REP INS/OUTS), the
     * data laid out back to back at {@code data_offset} in the kvm_run page.
     */
    private void handleIo(ByteBuffer run) {
        boolean out = run.get(KvmAbi.Run.IO_DIRECTION) == KvmAbi.KVM_EXIT_IO_OUT;
        int size = run.get(KvmAbi.Run.IO_SIZE);
        int port = run.getShort(KvmAbi.Run.IO_PORT) & 0xffff;
        int count = run.getInt(KvmAbi.Run.IO_COUNT);
        // data_offset is inside the mmapped kvm_run area (KVM puts the data in the page after struct kvm_run).
        int dataOffset = (int) run.getLong(KvmAbi.Run.IO_DATA_OFFSET);
        for (int i = 0; i < count; i++) {
            int at = dataOffset + i * size;
            if (out) {
                busWrite(pio, port, size, load(run, at, size));
            } else {
                store(run, at, size, busRead(pio, port, size));
            }
        }
    }

    private void handleMmio(ByteBuffer run) {
        long address = run.getLong(KvmAbi.Run.MMIO_PHYS_ADDR);
        int len = run.getInt(KvmAbi.Run.MMIO_LEN);
        boolean write = run.get(KvmAbi.Run.MMIO_IS_WRITE) != 0;
        if (write) {
            busWrite(mmio, address, len, load(run, KvmAbi.Run.MMIO_DATA, len));
        } else {
            store(run, KvmAbi.Run.MMIO_DATA, len, busRead(mmio, address, len));
        }
    }

    /**
     * A handler that breaks its never-throw contract must not take the vCPU down: the guest gets the hardware
     * answer (all-ones) and the failure is logged.
     */
    private long busRead(TrapBus bus, long address, int size) {
        try {
            return bus.read(address, size);
        } catch (RuntimeException e) {
            LOG.error("vcpu {}: {} read at 0x{} size {} threw; answering all-ones", vcpu.id(), bus.name(),
                    Long.toHexString(address), size, e);
            return TrapHandler.allOnes(size);
        }
    }

    /** As {@link #busRead}: a throwing handler drops the write. */
    private void busWrite(TrapBus bus, long address, int size, long value) {
        try {
            bus.write(address, size, value);
        } catch (RuntimeException e) {
            LOG.error("vcpu {}: {} write at 0x{} size {} threw; write dropped", vcpu.id(), bus.name(),
                    Long.toHexString(address), size, e);
        }
    }

    private static long load(ByteBuffer p, int at, int size) {
        return switch (size) {
            case 1 -> p.get(at) & 0xffL;
            case 2 -> p.getShort(at) & 0xffffL;
            case 4 -> p.getInt(at) & 0xffffffffL;
            case 8 -> p.getLong(at);
            default -> {
                long v = 0;
                for (int i = 0; i < size; i++) {
                    v |= (p.get(at + i) & 0xffL) << (8 * i);
                }
                yield v;
            }
        };
    }

    private static void store(ByteBuffer p, int at, int size, long value) {
        switch (size) {
            case 1 -> p.put(at, (byte) value);
            case 2 -> p.putShort(at, (short) value);
            case 4 -> p.putInt(at, (int) value);
            case 8 -> p.putLong(at, value);
            default -> {
                for (int i = 0; i < size; i++) {
                    p.put(at + i, (byte) (value >>> (8 * i)));
                }
            }
        }
    }

    /**
     * Stops the loop and joins the thread: sets {@code immediate_exit} so the next KVM_RUN returns at once, and
     * signals the thread until it has left (a vCPU blocked in an in-kernel HLT wakes on the signal). Idempotent;
     * a thread never started is simply marked stopped.
     */
    public void stop() {
        stopRequested = true;
        if (!thread.isAlive()) {
            if (!stopped.isDone() && thread.getState() == Thread.State.NEW) {
                stopped.complete(new VcpuStop(VcpuStop.Cause.REQUESTED, -1, "never started"));
            }
            joinQuietly();
            return;
        }
        vcpu.immediateExit(true);
        if (Thread.currentThread() == thread) {
            return; // called from a trap handler on this vCPU: the loop sees the flag when the handler returns
        }
        int t;
        try {
            t = tid.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("vcpu " + vcpu.id() + ": thread did not report its id", e);
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            VcpuKicker.kick(sys, t);
            try {
                thread.join(50);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void joinQuietly() {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }
}
