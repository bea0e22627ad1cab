package org.vfio4j.examples.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.refvmm.flat.GuestOutput;

/**
 * The benchmark's floor: {@code floor-vmm.c} (a resource next to this class), a VMM in C that does nothing but
 * KVM_RUN and answer the exits of a flat guest image without devices (the host bridge's id on CF8/CFC, debugcon, the
 * exit port). Built with gcc when the benchmark starts, run as a process per round like QEMU. What it measures is
 * the cost of an exit itself on this machine, which no VMM can go below.
 */
final class FloorVmm implements AutoCloseable {
    private static final String SOURCE = "floor-vmm.c";
    private static final String BINARY = "floor-vmm";

    private final Path dir;
    private final Path binary;
    private final String compiler;

    private FloorVmm(Path dir, Path binary, String compiler) {
        this.dir = dir;
        this.binary = binary;
        this.compiler = compiler;
    }

    /** Writes the source to a temporary directory and compiles it ({@code gcc -O2}). */
    static FloorVmm build() {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("vfio4j-floor");
            Path source = dir.resolve(SOURCE);
            try (InputStream in = FloorVmm.class.getResourceAsStream(SOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(SOURCE + " is not on the class path");
                }
                Files.write(source, in.readAllBytes());
            }
            Path binary = dir.resolve(BINARY);
            String out = run(List.of("gcc", "-O2", "-Wall", "-o", binary.toString(), source.toString()));
            if (!Files.isExecutable(binary)) {
                throw new IllegalStateException("gcc did not build the floor VMM: " + out);
            }
            String version = run(List.of("gcc", "--version")).lines().findFirst().orElse("gcc");
            return new FloorVmm(dir, binary, version);
        } catch (IOException e) {
            deleteQuietly(dir);
            throw new UncheckedIOException("building the floor VMM", e);
        }
    }

    /** The compiler's version line. */
    String compiler() {
        return compiler;
    }

    /**
     * Runs {@code image} with {@code ramMib} of RAM; with {@code coalescedCf8} the 0xcf8 writes go through KVM's
     * coalesced ring (one exit per CF8/CFC access instead of two).
     *
     * @param name the name the benchmark's tables give this run
     * @return the run (output parsed like QEMU's: results without exit stamps), with the whole process's time
     */
    VfioBench.Run run(String name, byte[] image, int ramMib, boolean coalescedCf8, Duration limit) throws InterruptedException {
        try {
            Path bin = dir.resolve("image.bin");
            Path out = dir.resolve("debugcon.out");
            Files.deleteIfExists(out);
            Files.write(bin, image);
            List<String> cmd = new ArrayList<>(List.of(binary.toString(), bin.toString(), Integer.toString(ramMib),
                    out.toString()));
            if (coalescedCf8) {
                cmd.add("--coalesced-cf8");
            }
            long start = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Integer code = null;
            String ending;
            if (!p.waitFor(limit.toNanos(), TimeUnit.NANOSECONDS)) {
                p.destroyForcibly().waitFor();
                ending = "floor-vmm killed after " + limit;
            } else {
                code = p.exitValue() < 100 ? p.exitValue() : null;
                ending = (code != null ? "exit port" : "floor-vmm failed with " + p.exitValue()) + ": " + log.trim();
            }
            long end = System.nanoTime();
            String text = Files.exists(out) ? Files.readString(out, StandardCharsets.US_ASCII) : "";
            GuestMachine.GuestRun run = new GuestMachine.GuestRun(code, ending, text, GuestOutput.parse(text),
                    Map.of());
            return new VfioBench.Run(name, run, null, Duration.ofNanos(end - start), null, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("running the floor VMM", e);
        }
    }

    private static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
        return out;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind is harmless
        }
    }

    @Override
    public void close() {
        deleteQuietly(dir);
    }
}
