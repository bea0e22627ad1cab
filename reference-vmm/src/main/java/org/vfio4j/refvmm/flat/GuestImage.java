package org.vfio4j.refvmm.flat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Builds guest programs into flat 64 KiB BIOS-style images, from source,
 * with GNU {@code as}, {@code ld} and {@code objcopy}: {@code head.s} (reset vector code, real to flat 32-bit
 * protected mode, debugcon output, PCI and interrupt helpers), the program (which defines {@code main}) and
 * {@code tail.s} (descriptor tables and the reset vector), assembled as one unit and linked at
 * {@link #BASE}. The image ends at 4 GiB with the reset vector at {@code 0xfffffff0}, so the same bytes run as
 * {@code qemu-system-x86_64 -bios prog.bin} ({@link QemuGuestRunner}) and in {@link GuestMachine}.
 *
 * <p>Programs take parameters as assembler symbols ({@code --defsym NAME=value}); each program documents its own and
 * has defaults, so a build without symbols is the QEMU build.
 *
 * <p>Sources are looked up on the classpath: first the library's own programs under
 * {@code org/vfio4j/refvmm/flat/guest/} ({@code head.s}, {@code tail.s}, {@code edu.s} for the demo,
 * {@code bench.s} for the benchmark), then {@code guest/<program>.s}, where an application or a test suite adds its
 * own programs (they include the library's {@code head.s} conventions: {@code main}, {@code REPORT}, {@code SAY}).
 *
 * <p>{@link #main} writes images to a directory for use outside the tests (the QEMU side of the benchmark).
 */
public final class GuestImage {
    /** Size of every image. */
    public static final int SIZE = 0x10000;
    /** Guest-physical address of the image's first byte: the image ends at 4 GiB. */
    public static final long BASE = 0x1_0000_0000L - SIZE;
    /** Where the library's programs are on the classpath, then where applications and tests add theirs. */
    private static final List<String> RESOURCES = List.of("/org/vfio4j/refvmm/flat/guest/", "/guest/");

    private GuestImage() {
    }

    /** Builds {@code program} ({@code guest/<program>.s}) with its default parameters. */
    public static byte[] build(String program) {
        return build(program, Map.of());
    }

    /**
     * Builds {@code program} with the given assembler symbols.
     *
     * @throws IllegalStateException when a tool fails (the message carries its output) or the image is not
     *     {@link #SIZE} bytes
     */
    public static byte[] build(String program, Map<String, Long> symbols) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("vfio4j-guest-" + program);
            List<String> sources = List.of("head.s", program + ".s", "tail.s");
            for (String s : sources) {
                Files.writeString(dir.resolve(s), source(s), StandardCharsets.UTF_8);
            }
            List<String> as = new ArrayList<>(List.of("as", "--32"));
            for (Map.Entry<String, Long> e : new TreeMap<>(symbols).entrySet()) {
                as.add("--defsym");
                as.add(e.getKey() + "=0x" + Long.toHexString(e.getValue()));
            }
            as.addAll(List.of("-o", "prog.o"));
            as.addAll(sources);
            run(dir, as);
            run(dir, List.of("ld", "-m", "elf_i386", "-Ttext", String.format("0x%x", BASE), "-e", "reset_vector",
                    "-o", "prog.elf", "prog.o"));
            run(dir, List.of("objcopy", "-O", "binary", "-j", ".text", "prog.elf", "prog.bin"));
            byte[] image = Files.readAllBytes(dir.resolve("prog.bin"));
            if (image.length != SIZE) {
                throw new IllegalStateException("guest program " + program + " built to " + image.length
                        + " bytes, not " + SIZE + " (too large for the image?)");
            }
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException("building guest program " + program, e);
        } finally {
            deleteQuietly(dir);
        }
    }

    /**
     * The text of one source file from the classpath (the first of the library's and the application's directories
     * that has it).
     *
     * @throws IllegalArgumentException when no directory has it
     */
    public static String source(String name) {
        for (String dir : RESOURCES) {
            try (InputStream in = GuestImage.class.getResourceAsStream(dir + name)) {
                if (in != null) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading guest source " + dir + name, e);
            }
        }
        throw new IllegalArgumentException("no guest source " + name + " on the classpath (looked in " + RESOURCES
                + ")");
    }

    private static void run(Path dir, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n"
                    + out);
        }
    }

    /** Deletes a temporary directory and its files; null or a failure leaves nothing to do. */
    static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }

    /**
     * Writes {@code <dir>/<program>.bin} for each program named, with default parameters.
     *
     * <p>Usage: {@code GuestImage DIR PROGRAM...} (e.g. {@code target/guest edu nvme e1000e}).
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: GuestImage DIR PROGRAM...");
            System.exit(2);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        for (int i = 1; i < args.length; i++) {
            Path out = dir.resolve(args[i] + ".bin");
            Files.write(out, build(args[i]));
            System.out.println(out);
        }
    }
}
