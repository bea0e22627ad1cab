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
 * here if absent). The trace records each event's process (tracefs option {@code record-tgid}), and {@link #stop(String)}
 * keeps the process whose debugcon text is the traced run's: other VMs on the machine (other users' KVM guests) do
 * not count.
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
    /** The process id tracefs prints after the task with {@code record-tgid}: {@code task-pid (tgid) [cpu]}. */
    private static final Pattern TGID = Pattern.compile("^\\s*.+?-\\d+\\s+\\(\\s*(\\d+|-+)\\)\\s+\\[");

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
        try {
            write("options/record-tgid", "1");
        } catch (UncheckedIOException ignored) {
            // an old kernel: events are not told apart by process
        }
        for (String e : EVENTS) {
            write("events/" + e + "/enable", "1");
        }
        write("tracing_on", "1");
        t.on = true;
        return t;
    }

    /**
     * Stops tracing and parses what was recorded, keeping the events of the process whose rebuilt debugcon text is
     * {@code expectedText} (the traced VMM's; if none matches exactly, the one that wrote the most debugcon text).
     */
    Result stop(String expectedText) {
        write("tracing_on", "0");
        on = false;
        try {
            String text = Files.readString(TRACING.resolve("trace"), StandardCharsets.US_ASCII);
            Map<String, Result> byProcess = parseByProcess(text);
            Result best = null;
            for (Result r : byProcess.values()) {
                if (r.output().text().equals(expectedText)) {
                    return r;
                }
                if (best == null || r.output().text().length() > best.output().text().length()) {
                    best = r;
                }
            }
            return best != null ? best : parse(text);
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

    /** Parses trace text per process ({@code record-tgid}); lines without a process id go under "-". */
    static Map<String, Result> parseByProcess(String text) {
        Map<String, StringBuilder> lines = new java.util.LinkedHashMap<>();
        StringBuilder header = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                header.append(line).append('\n');
                continue;
            }
            Matcher m = TGID.matcher(line);
            lines.computeIfAbsent(m.find() ? m.group(1) : "-", k -> new StringBuilder()).append(line).append('\n');
        }
        Map<String, Result> out = new java.util.LinkedHashMap<>();
        lines.forEach((tgid, body) -> out.put(tgid, parse(header + body.toString())));
        return out;
    }

    /** Parses trace text (tracefs {@code trace} format), every process together. */
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
        try {
            write("options/record-tgid", "0");
        } catch (UncheckedIOException ignored) {
            // best effort
        }
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
