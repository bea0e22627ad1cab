package org.vfio4j.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Compiles a small C program with gcc against the installed kernel headers (Debian {@code linux-libc-dev}) and
 * returns the values it prints, so tests can check Java layouts, ioctl numbers and flag values against the C
 * headers rather than by eye.
 *
 * <pre>{@code
 * Map<String, Long> c = CProbe.evaluate(List.of("linux/vfio.h"), Map.of(
 *         "VFIO_GET_API_VERSION", "VFIO_GET_API_VERSION",
 *         "sizeof(vfio_region_info)", "sizeof(struct vfio_region_info)",
 *         "offsetof(vfio_region_info.offset)", "offsetof(struct vfio_region_info, offset)"));
 * }</pre>
 */
public final class CProbe {
    private CProbe() {
    }

    /** True when gcc is on the PATH; tests use it in an assumption only where the headers are optional. */
    public static boolean gccAvailable() {
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * Evaluates each C expression (cast to {@code unsigned long long}) after including {@code headers}, and returns
     * the values keyed by the given names, in the given order.
     */
    public static Map<String, Long> evaluate(List<String> headers, Map<String, String> expressions)
            throws IOException, InterruptedException {
        return evaluate(headers, "", expressions);
    }

    /**
     * As {@link #evaluate(List, Map)}, with C code placed after the includes and before {@code main}, for helper
     * functions the expressions call. {@code _GNU_SOURCE} is defined.
     */
    public static Map<String, Long> evaluate(List<String> headers, String preamble, Map<String, String> expressions)
            throws IOException, InterruptedException {
        return evaluateWithIncludes(List.of(), headers, preamble, expressions);
    }

    /**
     * As {@link #evaluate(List, String, Map)}, with {@code includeDirs} searched before the installed headers
     * ({@code gcc -I}), for headers newer than the host's {@code linux-libc-dev} (e.g. a kernel's
     * {@code make headers_install} output).
     */
    public static Map<String, Long> evaluateWithIncludes(List<Path> includeDirs, List<String> headers,
            String preamble, Map<String, String> expressions) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("vfio4j-cprobe");
        try {
            StringBuilder src = new StringBuilder();
            src.append("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n");
            for (String h : headers) {
                src.append("#include <").append(h).append(">\n");
            }
            src.append(preamble).append("\nint main(void) {\n");
            List<String> names = new ArrayList<>(expressions.keySet());
            for (String name : names) {
                src.append("  printf(\"%s=%llu\\n\", \"").append(name).append("\", (unsigned long long)(")
                        .append(expressions.get(name)).append("));\n");
            }
            src.append("  return 0;\n}\n");
            Path c = dir.resolve("probe.c");
            Path exe = dir.resolve("probe");
            Files.writeString(c, src, StandardCharsets.UTF_8);
            List<String> gcc = new ArrayList<>(List.of("gcc", "-std=gnu11"));
            for (Path include : includeDirs) {
                gcc.add("-I" + include);
            }
            gcc.addAll(List.of("-o", exe.toString(), c.toString()));
            String compileOutput = run(gcc);
            if (!Files.exists(exe)) {
                throw new IllegalStateException("gcc failed on the probe:\n" + compileOutput + "\n" + src);
            }
            String out = run(List.of(exe.toString()));
            Map<String, Long> values = new LinkedHashMap<>();
            for (String line : out.split("\n")) {
                int eq = line.lastIndexOf('=');
                if (eq > 0) {
                    values.put(line.substring(0, eq), Long.parseUnsignedLong(line.substring(eq + 1).trim()));
                }
            }
            if (!values.keySet().containsAll(names)) {
                throw new IllegalStateException("probe printed " + values.keySet() + ", expected " + names);
            }
            return values;
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + command);
        }
        return out;
    }
}
