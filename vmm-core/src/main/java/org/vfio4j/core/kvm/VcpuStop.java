package org.vfio4j.core.kvm;

/**
 * Why a vCPU's run loop ended.
 *
 * @param cause the kind of stop
 * @param exitReason the KVM exit reason that ended it, or -1 when the VMM stopped it or KVM_RUN failed
 * @param detail a human-readable account: reason codes, suberror and data words, errno
 */
public record VcpuStop(Cause cause, int exitReason, String detail) {

    /** The kinds of stop. */
    public enum Cause {
        /** {@link VcpuThread#stop()} asked for it. */
        REQUESTED,
        /** The guest halted with no in-kernel irqchip to wake it (KVM_EXIT_HLT). */
        HALTED,
        /** Triple fault or other shutdown (KVM_EXIT_SHUTDOWN). */
        SHUTDOWN,
        /** A system event (reset, crash, shutdown requested through PSCI and the like). */
        SYSTEM_EVENT,
        /** KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY). */
        FAIL_ENTRY,
        /** KVM hit an internal error, e.g. an instruction it cannot emulate (KVM_EXIT_INTERNAL_ERROR). */
        INTERNAL_ERROR,
        /** An exit this loop does not handle. */
        UNHANDLED_EXIT,
        /** KVM_RUN failed with an errno, or a handler threw. */
        ERROR
    }

    /** True for stops that indicate a fault (not a request, halt or orderly shutdown). */
    public boolean isFailure() {
        return cause == Cause.FAIL_ENTRY || cause == Cause.INTERNAL_ERROR || cause == Cause.UNHANDLED_EXIT
                || cause == Cause.ERROR;
    }
}
