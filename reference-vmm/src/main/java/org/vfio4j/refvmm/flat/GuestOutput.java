package org.vfio4j.refvmm.flat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.vfio4j.core.bus.TrapHandler;

/**
 * The guest's debugcon port (0x402, as QEMU's isa-debugcon): collects the text and parses each {@code key=0x...}
 * line into a {@link Result} stamped with the VMM's exit counts at the moment the line ended. Because the newline
 * is written by the vCPU itself, the stamp is exact: the exits between two lines are exactly the exits the guest
 * code between them caused (plus the debugcon writes of the second line's text, which are port I/O).
 *
 * <p>A guest can print without end, so everything kept is bounded: the first {@value #MAX_TEXT} bytes of text, lines
 * up to {@value #MAX_LINE} bytes (the rest of a longer line is dropped) and the first {@value #MAX_RESULTS} results;
 * {@link #droppedBytes()} counts what was left out.
 */
public final class GuestOutput implements TrapHandler {

    /**
     * One result line.
     *
     * @param key the text before {@code =}
     * @param value the hex value after it
     * @param exits the VMM's exit counts by reason name when the line ended
     */
    public record Result(String key, long value, Map<String, Long> exits) {
        /** Exits with reason {@code reason} counted when the line ended. */
        public long exits(String reason) {
            return exits.getOrDefault(reason, 0L);
        }
    }

    /** Text kept, in bytes. */
    public static final int MAX_TEXT = 1 << 20;
    /** Longest line kept, in bytes. */
    public static final int MAX_LINE = 4096;
    /** Results kept. */
    public static final int MAX_RESULTS = 65536;

    private final Supplier<Map<String, Long>> exitCounts;
    private long dropped;
    private final ByteArrayOutputStream all = new ByteArrayOutputStream();
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final List<Result> results = new ArrayList<>();
    private long firstWrite;

    /** Stamps results with {@code exitCounts} (called on the vCPU thread that wrote the newline). */
    public GuestOutput(Supplier<Map<String, Long>> exitCounts) {
        this.exitCounts = exitCounts;
    }

    @Override
    public long read(long offset, int size) {
        // QEMU's isa-debugcon reads back 0xe9 (its "is a debug console" answer); nothing here depends on it.
        return 0xe9;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (firstWrite == 0) {
            firstWrite = System.nanoTime();
        }
        for (int i = 0; i < size; i++) {
            int c = (int) (value >>> (8 * i)) & 0xff;
            if (all.size() < MAX_TEXT) {
                all.write(c);
            } else {
                dropped++;
            }
            if (c == '\n') {
                endLine();
            } else if (line.size() < MAX_LINE) {
                line.write(c);
            }
        }
    }

    private void endLine() {
        String text = line.toString(StandardCharsets.US_ASCII);
        line.reset();
        int eq = text.indexOf('=');
        if (eq > 0 && text.startsWith("0x", eq + 1)) {
            try {
                String hex = text.substring(eq + 3);
                int space = hex.indexOf(' ');
                long v = Long.parseUnsignedLong(space < 0 ? hex : hex.substring(0, space), 16);
                if (results.size() < MAX_RESULTS) {
                    results.add(new Result(text.substring(0, eq), v, exitCounts.get()));
                }
            } catch (NumberFormatException ignored) {
                // not a result line: it stays in the text
            }
        }
    }

    /** Adds a line on the VMM's behalf ({@code key=value # comment}), stamped like the guest's own. */
    public synchronized void note(String key, long value, String comment) {
        byte[] line = String.format("%s=0x%08x # %s%n", key, value, comment).getBytes(StandardCharsets.US_ASCII);
        for (byte b : line) {
            write(0, 1, b & 0xff);
        }
    }

    /**
     * Parses text printed elsewhere (e.g. by the same program under QEMU, from its debugcon file) into results
     * without exit counts.
     */
    public static List<Result> parse(String text) {
        GuestOutput out = new GuestOutput(Map::of);
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        for (byte b : bytes) {
            out.write(0, 1, b & 0xff);
        }
        return out.results();
    }

    /** {@link System#nanoTime()} when the guest wrote its first character, or 0 when it wrote none yet. */
    public synchronized long firstWriteNanos() {
        return firstWrite;
    }

    /** Bytes of text left out because the guest printed more than {@value #MAX_TEXT}. */
    public synchronized long droppedBytes() {
        return dropped;
    }

    /** Everything the guest printed so far (up to {@value #MAX_TEXT} bytes). */
    public synchronized String text() {
        return all.toString(StandardCharsets.US_ASCII);
    }

    /** The result lines so far, in order. */
    public synchronized List<Result> results() {
        return List.copyOf(results);
    }

    /** The last result with {@code key}, if any. */
    public synchronized Optional<Result> result(String key) {
        for (int i = results.size() - 1; i >= 0; i--) {
            if (results.get(i).key().equals(key)) {
                return Optional.of(results.get(i));
            }
        }
        return Optional.empty();
    }

    /** The value of the last result with {@code key}, if any. */
    public OptionalLong value(String key) {
        return result(key).map(r -> OptionalLong.of(r.value())).orElse(OptionalLong.empty());
    }
}
