package org.vfio4j.vfio.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The external tools the platform tests run: QEMU's arm machine (for its DTB), dtc/fdtoverlay and iasl. */
final class Tools {
    private Tools() {
    }

    /** The DTB of {@code qemu-system-aarch64 -machine <machine>,dumpdtb=...}: a real machine's tree. */
    static byte[] qemuDtb(Path dir, String machine) throws Exception {
        Path out = dir.resolve(machine.replace(',', '_').replace('=', '_') + ".dtb");
        run(dir, "qemu-system-aarch64 is in Debian's qemu-system-arm package (.ci/run installs it)",
                "qemu-system-aarch64", "-machine", machine + ",dumpdtb=" + out, "-nographic", "-nodefaults");
        return Files.readAllBytes(out);
    }

    /** Runs a command in {@code dir}; its output, or the test fails saying what and how to get the tool. */
    static String run(Path dir, String install, String... command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return fail(command[0] + " can't be run (" + e.getMessage() + "): " + install);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish");
        }
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }

    /** Compiles ASL with iasl (acpica-tools) and returns the AML table. */
    static byte[] iasl(Path dir, String name, String asl) throws Exception {
        Files.writeString(dir.resolve(name + ".asl"), asl);
        run(dir, "iasl is in Debian's acpica-tools package (.ci/run installs it)", "iasl", "-p", name, name + ".asl");
        return Files.readAllBytes(dir.resolve(name + ".aml"));
    }

    /** {@code dtc -I dtb -O dts} of a blob. */
    static String dts(Path dir, byte[] dtb) throws Exception {
        Path f = Files.write(Files.createTempFile(dir, "blob", ".dtb"), dtb);
        return run(dir, "dtc is in Debian's device-tree-compiler package (.ci/run installs it)", "dtc", "-q", "-I",
                "dtb", "-O", "dts", f.toString());
    }

    /** Applies an overlay to a base tree with fdtoverlay. */
    static byte[] applyOverlay(Path dir, byte[] base, byte[] overlay) throws Exception {
        Path b = Files.write(dir.resolve("base.dtb"), base);
        Path o = Files.write(dir.resolve("overlay.dtbo"), overlay);
        Path out = dir.resolve("merged.dtb");
        run(dir, "fdtoverlay is in Debian's device-tree-compiler package (.ci/run installs it)", "fdtoverlay", "-i",
                b.toString(), "-o", out.toString(), o.toString());
        return Files.readAllBytes(out);
    }

    static List<Integer> list(int[] cells) {
        return java.util.Arrays.stream(cells).boxed().toList();
    }
}
