package org.vfio4j.vfio.pci;

import org.vfio4j.vfio.errors.VfioException;

/**
 * Release steps that must all run even when one fails, with an {@link Error} as well as an exception (an
 * OutOfMemoryError or a JNA UnsatisfiedLinkError in the middle of a release must not leave the rest behind). The
 * first failure is thrown by {@link #rethrow()}, the others suppressed into it.
 */
final class Cleanup {
    /** A release step. */
    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    private Throwable first;

    /** Runs {@code step}, keeping its failure for {@link #rethrow()}. */
    void run(Step step) {
        try {
            step.run();
        } catch (Throwable t) {
            add(t);
        }
    }

    void add(Throwable t) {
        if (first == null) {
            first = t;
        } else if (first != t) {
            first.addSuppressed(t);
        }
    }

    /** True when a step failed. */
    boolean failed() {
        return first != null;
    }

    /** Throws the first failure, if any, as it was (a checked exception wrapped in a {@link VfioException}). */
    void rethrow() {
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first != null) {
            throw new VfioException("release failed: " + first, first);
        }
    }
}
