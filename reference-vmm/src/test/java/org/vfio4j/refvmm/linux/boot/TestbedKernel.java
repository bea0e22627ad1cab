package org.vfio4j.refvmm.linux.boot;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** The testbed's real Debian bzImage, found from the test's working directory (the module or the project root). */
final class TestbedKernel {
    private static BzImage cached;

    private TestbedKernel() {
    }

    /** {@code testbed/cache/vmlinuz} of the project root; fails the test when testbed/setup has not been run. */
    static Path path() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("testbed")) && Files.isRegularFile(d.resolve("pom.xml"))) {
                Path kernel = d.resolve("testbed/cache/vmlinuz");
                if (!Files.isRegularFile(kernel)) {
                    fail("no kernel at " + kernel + ": run testbed/setup first (it fetches the Debian kernel)");
                }
                return kernel;
            }
        }
        return fail("no project root (a directory with testbed/ and pom.xml) above " + dir);
    }

    /** The parsed image, read once. */
    static synchronized BzImage image() {
        if (cached == null) {
            cached = BzImage.read(path());
        }
        return cached;
    }
}
