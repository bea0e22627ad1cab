package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;

/**
 * Kicks a vCPU thread out of KVM_RUN with a signal. KVM_RUN returns EINTR when a signal is pending for the thread;
 * the signal must have a handler (an ignored signal is discarded, a default-action one kills the process). The
 * handler does nothing: the kick is the interruption itself. Combined with {@code kvm_run.immediate_exit}, set
 * before the signal, this stops a vCPU whether it is in the guest, in a blocked HLT, or about to enter KVM_RUN.
 *
 * <p>Signal dispositions are per process, so the handler is installed once and left in place (the JVM does not use
 * real-time signals).
 */
public final class VcpuKicker {
    /** SIGRTMIN+6 under glibc (SIGRTMIN is 34 there; NPTL keeps 32 and 33). */
    public static final int SIGNAL = 40;

    /** {@code struct sigaction} in glibc x86-64: handler, 128-byte mask, flags; checked by a header test. */
    static final int SIGACTION_SIZE = 152;
    static final int SIGACTION_HANDLER = 0;
    static final int SIGACTION_FLAGS = 136;

    private static final Object LOCK = new Object();
    private static volatile boolean installed;

    private VcpuKicker() {
    }

    /**
     * Installs the do-nothing handler for {@link #SIGNAL} (once per process). glibc's {@code getpid} serves as the
     * handler: it is async-signal-safe and ignores the signal number, so no executable memory of our own is needed.
     */
    static void install(Syscalls sys) {
        if (installed) {
            return;
        }
        synchronized (LOCK) {
            if (installed) {
                return;
            }
            Pointer handler = NativeLibrary.getInstance("c").getFunction("getpid");
            Memory act = new Memory(SIGACTION_SIZE);
            act.clear();
            act.setPointer(SIGACTION_HANDLER, handler);
            act.setInt(SIGACTION_FLAGS, 0); // no SA_RESTART: the point is to interrupt
            int r = sys.sigaction(SIGNAL, act, null);
            if (r < 0) {
                throw new SyscallException("sigaction", "vcpu kick signal " + SIGNAL, null, -r);
            }
            installed = true;
        }
    }

    /** Sends the kick to thread {@code tid}; a thread that already ended (ESRCH) is fine. */
    static void kick(Syscalls sys, int tid) {
        int r = sys.tgkill(sys.getpid(), tid, SIGNAL);
        if (r < 0 && -r != Errno.ESRCH) {
            throw new SyscallException("tgkill", "vcpu thread " + tid, null, -r);
        }
    }
}
