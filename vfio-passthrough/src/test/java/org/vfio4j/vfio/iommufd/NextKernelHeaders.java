package org.vfio4j.vfio.iommufd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the uapi headers of the testbed's "next" kernel are ({@code make headers_install} output, written by
 * testbed/kernel/build): {@code -Dvfio4j.kernel.headers=DIR}, else the clone's testbed/cache/kernel-next/include,
 * else the newest machine-wide cache entry (/var/cache/vfio4j-testbed/kernel-next-KEY/include).
 */
final class NextKernelHeaders {
    private NextKernelHeaders() {
    }

    static Optional<Path> find() {
        String prop = System.getProperty("vfio4j.kernel.headers");
        if (prop != null && !prop.isBlank()) {
            return Optional.of(Path.of(prop));
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("testbed/cache/kernel-next/include");
            if (Files.isRegularFile(candidate.resolve("linux/iommufd.h"))) {
                return Optional.of(candidate);
            }
        }
        Path machine = Path.of(System.getenv().getOrDefault("TESTBED_KERNEL_CACHE", "/var/cache/vfio4j-testbed"));
        if (!Files.isDirectory(machine)) {
            return Optional.empty();
        }
        try (Stream<Path> entries = Files.list(machine)) {
            return entries.filter(d -> d.getFileName().toString().startsWith("kernel-next-"))
                    .map(d -> d.resolve("include"))
                    .filter(d -> Files.isRegularFile(d.resolve("linux/iommufd.h")))
                    .max(Comparator.comparing(d -> d.toFile().lastModified()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
