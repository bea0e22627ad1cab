package org.vfio4j.examples.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vfio4j.refvmm.flat.GuestOutput;

/**
 * Counts a VM's KVM exits per guest-program stretch from the kernel's KVM tracepoints, the same way for any VMM
 * (QEMU reports no exit counts of its own): {@code kvm:kvm_exit} (every exit, also those KVM handles in the kernel),
 * {@code kvm:kvm_userspace_exit} (exits that return to the VMM process, what vfio4j's own counters count) and
 * {@code kvm:kvm_pio}, from which the guest's debugcon text (port 0x402) is rebuilt so that each result line gets
 * the counts at the moment it was written, as {@link GuestOutput} does inside vfio4j. Needs root and tracefs (mounted
 * here if absent). Only one VM should run while tracing.
 */
final class KvmTrace implements AutoCloseable {
    /** Result-stamp key: every KVM exit. */
    static final String ALL = "all";
    /** Result-stamp key: exits to the VMM process. */
    static final String USERSPACE = "userspace";
    private static final Path TRACING = Path.of("/sys/kernel/tracing");
    private static final List<String> EVENTS = List.of("kvm/kvm_exit", "kvm/kvm_userspace_exit", "kvm/kvm_pio");
    private static final Pattern PIO = Pattern.compile("pio_write at 0x402 size 1 count 1 val 0x([0-9a-f]+)");
    private static final Pattern ENTRIES = Pattern.compile("entries-in-buffer/entries-written: (\\d+)/(\\d+)");

    private boolean on;

    /** Starts tracing (clears the buffer, 64 MiB per CPU). */
    static KvmTrace start() {
        if (!Files.isDirectory(TRACING.resolve("events"))) {
            run(List.of("mount", "-t", "tracefs", "nodev", TRACING.toString()));
        }
        KvmTrace t = new KvmTrace();
        write("tracing_on", "0");
        write("buffer_size_kb", "65536");
        write("trace", "");
        for (String e : EVENTS) {
            write("events/" + e + "/enable", "1");
        }
        write("tracing_on", "1");
        t.on = true;
        return t;
    }

    /** Stops tracing and parses what was recorded. */
    Result stop() {
        write("tracing_on", "0");
        on = false;
        try {
            String text = Files.readString(TRACING.resolve("trace"), StandardCharsets.US_ASCII);
            return parse(text);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + TRACING.resolve("trace"), e);
        } finally {
            disable();
        }
    }

    /**
     * What a trace held.
     *
     * @param output the guest's debugcon output with results stamped {@link #ALL} and {@link #USERSPACE}
     * @param lost true when the buffer overflowed (counts are then unreliable)
     */
    record Result(GuestOutput output, boolean lost) {
    }

    /** Parses trace text (tracefs {@code trace} format). */
    static Result parse(String text) {
        long[] all = {0};
        long[] user = {0};
        GuestOutput out = new GuestOutput(() -> Map.of(ALL, all[0], USERSPACE, user[0]));
        boolean lost = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                Matcher m = ENTRIES.matcher(line);
                if (m.find() && !m.group(1).equals(m.group(2))) {
                    lost = true;
                }
                continue;
            }
            if (line.contains(" kvm_exit: ")) {
                all[0]++;
            } else if (line.contains(" kvm_userspace_exit: ")) {
                user[0]++;
            } else if (line.contains(" kvm_pio: ")) {
                Matcher m = PIO.matcher(line);
                if (m.find()) {
                    out.write(0, 1, Long.parseLong(m.group(1), 16));
                }
            }
        }
        return new Result(out, lost);
    }

    private void disable() {
        for (String e : EVENTS) {
            try {
                write("events/" + e + "/enable", "0");
            } catch (UncheckedIOException ignored) {
                // best effort: the next start() writes them again
            }
        }
        try {
            write("buffer_size_kb", "1408");
        } catch (UncheckedIOException ignored) {
            // best effort
        }
    }

    /** Stops tracing if still on. Idempotent. */
    @Override
    public void close() {
        if (on) {
            write("tracing_on", "0");
            on = false;
            disable();
        }
    }

    private static void write(String file, String value) {
        try {
            Files.writeString(TRACING.resolve(file), value, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + value + " to " + TRACING.resolve(file), e);
        }
    }

    private static void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
    }
}
