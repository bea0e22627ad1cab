package org.vfio4j.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Assembles small x86 guest programs for tests with GNU {@code as} and {@code objcopy -O binary} (binutils come with
 * gcc; nasm is not assumed). The source is GNU as syntax (AT&amp;T); {@code .code16} or {@code .code32} is prepended.
 * The program is linked at {@code origin}: labels resolve to guest addresses when the bytes are loaded there.
 */
public final class GuestCode {
    private GuestCode() {
    }

    /** True when {@code as}, {@code ld} and {@code objcopy} can be run. */
    public static boolean available() {
        try {
            for (String tool : List.of("as", "ld", "objcopy")) {
                Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    return false;
                }
            }
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** 16-bit (real-mode) code loaded at guest address {@code origin}. */
    public static byte[] assemble16(String source, long origin) {
        return assemble(".code16\n" + source, origin);
    }

    /** 32-bit (flat protected-mode) code loaded at guest address {@code origin}. */
    public static byte[] assemble32(String source, long origin) {
        return assemble(".code32\n" + source, origin);
    }

    private static byte[] assemble(String source, long origin) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("vfio4j-guest");
            Path s = dir.resolve("guest.s");
            Path o = dir.resolve("guest.o");
            Path elf = dir.resolve("guest.elf");
            Path bin = dir.resolve("guest.bin");
            Files.writeString(s, ".text\n.globl _start\n_start:\n" + source + "\n", StandardCharsets.UTF_8);
            run(List.of("as", "--32", "-o", o.toString(), s.toString()), source);
            run(List.of("ld", "-m", "elf_i386", "-Ttext", String.format("0x%x", origin), "-e", "_start", "-o",
                    elf.toString(), o.toString()), source);
            run(List.of("objcopy", "-O", "binary", "-j", ".text", elf.toString(), bin.toString()), source);
            return Files.readAllBytes(bin);
        } catch (IOException e) {
            throw new IllegalStateException("assembling guest code failed", e);
        } finally {
            if (dir != null) {
                try (var files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // best effort cleanup of a temp dir
                }
            }
        }
    }

    private static void run(List<String> command, String source) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(command.get(0) + " failed:\n" + out + "\nsource:\n" + source);
        }
    }
}
