package org.vfio4j.vfio.testbed.passthrough;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the testbed guest's vfio-pci devices are: {@code VFIO4J_TESTBED_<NAME>} as exported by {@code testbed/run},
 * else the {@code name=BDF} lines of {@code /tmp/testbed-devices}. Outside the testbed a lookup fails the test with
 * a message saying how to run it.
 */
final class TestbedHost {
    private static final Path DEVICES_FILE = Path.of("/tmp/testbed-devices");

    private TestbedHost() {
    }

    /** The host BDF of the testbed device {@code name} (edu, nvme, e1000e, ivshmem). */
    static String bdf(String name) {
        String env = System.getenv("VFIO4J_TESTBED_" + name.toUpperCase(Locale.ROOT));
        if (env != null && !env.isBlank()) {
            return env.trim();
        }
        if (Files.isRegularFile(DEVICES_FILE)) {
            try {
                for (String line : Files.readAllLines(DEVICES_FILE)) {
                    int eq = line.indexOf('=');
                    if (eq > 0 && line.substring(0, eq).trim().equals(name)) {
                        return line.substring(eq + 1).trim();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return fail("no testbed device " + name + ": this test runs only inside the testbed guest "
                + "(mvn -B verify -Ptestbed, or testbed/run -- testbed/junit ...)");
    }
}
