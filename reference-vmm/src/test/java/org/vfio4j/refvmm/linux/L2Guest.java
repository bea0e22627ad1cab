package org.vfio4j.refvmm.linux;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The L2 Linux guest that the testbed prepares (testbed/setup, testbed/l2/build): the testbed's own kernel and an
 * initramfs whose init prints {@code key=value} lines and ends the VM through port 0x501. Found from the working
 * directory (a module or the project root).
 */
final class L2Guest {
    private L2Guest() {
    }

    static Path projectRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("testbed")) && Files.isRegularFile(d.resolve("pom.xml"))) {
                return d;
            }
        }
        return fail("no project root (a directory with testbed/ and pom.xml) above " + dir);
    }

    static Path kernel() {
        return existing(projectRoot().resolve("testbed/cache/vmlinuz"));
    }

    static Path initrd() {
        return existing(projectRoot().resolve("testbed/cache/l2/initramfs.cpio.gz"));
    }

    /** A command line for the L2 guest: quiet serial console, panic ends the VM, the checks to run. */
    static String commandLine(String checks) {
        return "console=ttyS0 quiet panic=-1 vfio4j.checks=" + checks;
    }

    private static Path existing(Path p) {
        if (!Files.isRegularFile(p)) {
            fail(p + " is missing: run testbed/setup (it builds the L2 guest)");
        }
        return p;
    }
}
