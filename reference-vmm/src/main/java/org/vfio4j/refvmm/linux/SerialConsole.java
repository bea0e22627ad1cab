package org.vfio4j.refvmm.linux;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the guest's serial output goes: a bounded in-memory copy (the newest {@link #LIMIT} bytes, for the VMM's
 * report and the tests), optionally a log file and standard output. Lines complete on '\n'; a byte never blocks the
 * vCPU for long (the file and stdout are buffered and flushed per line).
 */
final class SerialConsole implements AutoCloseable {
    /** The in-memory copy keeps at most this much; older output is dropped (the log file keeps everything). */
    static final int LIMIT = 8 << 20;

    private final StringBuilder text = new StringBuilder();
    private final StringBuilder line = new StringBuilder();
    private final List<String> lines = new ArrayList<>();
    private final OutputStream file;
    private final PrintStream echo;
    private long dropped;

    SerialConsole(Optional<Path> log, boolean echoToStdout) {
        try {
            this.file = log.isPresent() ? Files.newOutputStream(log.get()) : null;
        } catch (IOException e) {
            throw new IllegalArgumentException("console log " + log.get() + ": " + e.getMessage(), e);
        }
        this.echo = echoToStdout ? System.out : null;
    }

    /** One byte from the UART. */
    synchronized void put(byte b) {
        if (b == '\r') {
            return;
        }
        char c = (char) (b & 0xff);
        text.append(c);
        if (text.length() > LIMIT) {
            int cut = text.length() - LIMIT;
            text.delete(0, cut);
            dropped += cut;
        }
        if (c == '\n') {
            String l = line.toString();
            line.setLength(0);
            if (lines.size() < 100_000) {
                lines.add(l);
            }
            byte[] bytes = (l + "\n").getBytes(StandardCharsets.ISO_8859_1);
            if (file != null) {
                try {
                    file.write(bytes);
                    file.flush();
                } catch (IOException ignored) {
                    // the log is a convenience; the in-memory copy is what the VMM reports from
                }
            }
            if (echo != null) {
                echo.print(l + "\n");
                echo.flush();
            }
        } else {
            line.append(c);
        }
    }

    /** Everything kept so far. */
    synchronized String text() {
        return dropped == 0 ? text.toString() : "[" + dropped + " bytes dropped]\n" + text;
    }

    /** The complete lines so far (at most 100,000). */
    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public synchronized void close() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }
}
