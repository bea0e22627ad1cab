package org.vfio4j.core.util;

/**
 * Release steps that must all run even when one fails: close each, keep the first failure, add the others to it as
 * suppressed, and throw it at the end. An {@link Error} counts as a failure too (an OutOfMemoryError or a JNA
 * UnsatisfiedLinkError in the middle of a release must not leave the rest behind).
 *
 * <pre>{@code
 * Closer closer = new Closer();
 * closer.close(slots);
 * closer.run(() -> device.disable(index));
 * closer.close(fd);
 * closer.rethrow();
 * }</pre>
 *
 * <p>After a failed setup, {@code closer.add(failure)} first: what the release throws is suppressed into it, and
 * {@link #rethrow()} throws it. Not thread-safe: one closer per release.
 */
public final class Closer {
    /** A release step. */
    @FunctionalInterface
    public interface Step {
        /** Releases something; may throw anything. */
        void run() throws Exception;
    }

    private Throwable first;

    /**
     * After a failed setup: closes each of {@code resources} in order (nulls skipped) and adds what they throw to
     * {@code failure} as suppressed, for the caller to throw.
     */
    public static void closeAfter(Throwable failure, AutoCloseable... resources) {
        Closer closer = new Closer();
        closer.add(failure);
        for (AutoCloseable r : resources) {
            closer.close(r);
        }
    }

    /** Runs {@code step}, keeping its failure for {@link #rethrow()}. */
    public void run(Step step) {
        try {
            step.run();
        } catch (Throwable t) {
            add(t);
        }
    }

    /** Closes {@code resource} unless it is null, keeping its failure for {@link #rethrow()}. */
    public void close(AutoCloseable resource) {
        if (resource != null) {
            run(resource::close);
        }
    }

    /** Records a failure: the first is kept, later ones are suppressed into it. */
    public void add(Throwable failure) {
        if (first == null) {
            first = failure;
        } else if (first != failure) {
            first.addSuppressed(failure);
        }
    }

    /** True when a step failed (or a failure was {@linkplain #add added}). */
    public boolean failed() {
        return first != null;
    }

    /**
     * Throws the first failure, if any, as it was; a checked exception (from an {@link AutoCloseable#close()}) is
     * wrapped in an {@link IllegalStateException} that names it.
     */
    public void rethrow() {
        if (first instanceof RuntimeException e) {
            throw e;
        }
        if (first instanceof Error e) {
            throw e;
        }
        if (first != null) {
            throw new IllegalStateException("release failed: " + first, first);
        }
    }
}
