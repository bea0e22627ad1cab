package org.vfio4j.vfio.machine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Where the testbed guest's vfio-pci devices are (see {@code testbed/run}): {@code VFIO4J_TESTBED_<NAME>}, else the
 * {@code name=BDF} lines of {@code /tmp/testbed-devices}. Used by the demo, the benchmark and the testbed tests to
 * find their devices without arguments.
 */
public final class TestbedDevices {
    private static final Path DEVICES_FILE = Path.of("/tmp/testbed-devices");

    private TestbedDevices() {
    }

    /**
     * The host BDF of the testbed device {@code name} (edu, nvme, e1000e, ivshmem), or empty outside the testbed.
     *
     * @throws UncheckedIOException when the devices file exists but cannot be read
     */
    public static Optional<String> bdf(String name) {
        String env = System.getenv("VFIO4J_TESTBED_" + name.toUpperCase(Locale.ROOT));
        if (env != null && !env.isBlank()) {
            return Optional.of(env.trim());
        }
        if (Files.isRegularFile(DEVICES_FILE)) {
            try {
                for (String line : Files.readAllLines(DEVICES_FILE)) {
                    int eq = line.indexOf('=');
                    if (eq > 0 && line.substring(0, eq).trim().equals(name)) {
                        return Optional.of(line.substring(eq + 1).trim());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + DEVICES_FILE, e);
            }
        }
        return Optional.empty();
    }
}
