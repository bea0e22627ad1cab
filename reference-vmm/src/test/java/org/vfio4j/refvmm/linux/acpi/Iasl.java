package org.vfio4j.refvmm.linux.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Runs ACPICA's {@code iasl} (Debian package acpica-tools) on our tables: the reference check of their layouts.
 * Disassembly decodes every field by the spec and flags bad checksums and lengths; compiling the disassembly back
 * gives the bytes ACPICA would have produced for the same content.
 */
final class Iasl {
    /** What one disassembly produced: iasl's messages and the disassembled source. */
    record Disassembly(String output, String dsl) {
    }

    private Iasl() {
    }

    /**
     * Disassembles {@code table} (written to {@code dir/name.dat}) with {@code iasl -d}, checking that iasl succeeded
     * and reported no error, warning or bad checksum.
     */
    static Disassembly disassemble(Path dir, String name, byte[] table) throws IOException, InterruptedException {
        Files.write(dir.resolve(name + ".dat"), table);
        String out = run(dir, "iasl", "-d", name + ".dat");
        String dsl = Files.readString(dir.resolve(name + ".dsl"));
        for (String bad : List.of("error", "warning", "incorrect", "invalid")) {
            assertFalse(out.toLowerCase(Locale.ROOT).contains(bad), "iasl -d " + name + " says " + bad + ":\n" + out);
            assertFalse(dsl.toLowerCase(Locale.ROOT).contains(bad), "disassembly of " + name + " says " + bad
                    + ":\n" + dsl);
        }
        return new Disassembly(out, dsl);
    }

    /**
     * Compiles ASL or data-table source {@code source} as {@code dir/name.<ext>} with {@code iasl} plus
     * {@code options} and returns the binary output ({@code name.aml}).
     */
    static byte[] compile(Path dir, String name, String ext, String source, String... options)
            throws IOException, InterruptedException {
        Path src = Files.createDirectories(dir.resolve("compiled")).resolve(name + "." + ext);
        Files.writeString(src, source);
        String[] cmd = new String[options.length + 2];
        cmd[0] = "iasl";
        System.arraycopy(options, 0, cmd, 1, options.length);
        cmd[cmd.length - 1] = src.getFileName().toString();
        String out = run(src.getParent(), cmd);
        assertTrue(out.contains("Compilation successful. 0 Errors, 0 Warnings, 0 Remarks"),
                "iasl compile of " + name + ":\n" + out);
        return Files.readAllBytes(src.getParent().resolve(name + ".aml"));
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("iasl not found: install Debian's acpica-tools (apt-get install acpica-tools)",
                    e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }
}
