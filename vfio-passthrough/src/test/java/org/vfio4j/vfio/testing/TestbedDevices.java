package org.vfio4j.vfio.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The PCI devices the testbed guest bound to vfio-pci, as {@code testbed/guest-init} publishes them: one
 * {@code name=BDF} line per device in {@code /tmp/testbed-devices} (names: edu, nvme, e1000e, ivshmem; on the microvm
 * machine rng-mmio, whose value is a platform device's name such as {@code LNRO0005:02}), and the same
 * as {@code VFIO4J_TESTBED_<NAME>} environment variables (which win, so a device can also be named by hand). The one
 * reader of that list, for the testbed tests of every module. Outside the guest there is no list: {@link #find}
 * is empty, and {@link #all} and {@link #bdf} fail the test with a message saying how to run it.
 */
public final class TestbedDevices {
    /** Where the guest's init writes the device list. */
    public static final Path DEVICES_FILE = Path.of("/tmp/testbed-devices");
    private static final String HOW_TO_RUN = "this test runs only inside the testbed guest "
            + "(mvn -B verify -Ptestbed, or testbed/run -- testbed/junit ...)";

    private TestbedDevices() {
    }

    /** All devices of the list file, name to BDF, in the order they were bound; fails the test without the file. */
    public static Map<String, String> all() {
        if (!Files.isRegularFile(DEVICES_FILE)) {
            fail(DEVICES_FILE + " is missing: " + HOW_TO_RUN);
        }
        Map<String, String> devices = read();
        if (devices.isEmpty()) {
            fail(DEVICES_FILE + " lists no devices");
        }
        return devices;
    }

    /**
     * The BDF of the named device ({@code VFIO4J_TESTBED_<NAME>}, else its line in the list file), or empty outside
     * the testbed or when the guest was booted without it.
     */
    public static Optional<String> find(String name) {
        String env = System.getenv("VFIO4J_TESTBED_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
        if (env != null && !env.isBlank()) {
            return Optional.of(env.trim());
        }
        return Files.isRegularFile(DEVICES_FILE) ? Optional.ofNullable(read().get(name)) : Optional.empty();
    }

    /** The BDF of the named device ({@link #find}); fails the test when there is none. */
    public static String bdf(String name) {
        return find(name).orElseGet(() -> fail(Files.isRegularFile(DEVICES_FILE)
                ? "the testbed guest has no " + name + " device (booted with --devices " + read().keySet() + ")"
                : "no testbed device " + name + ": " + HOW_TO_RUN));
    }

    /** The sysfs directory of a PCI device. */
    public static Path sysfs(String bdf) {
        return Path.of("/sys/bus/pci/devices", bdf);
    }

    /** The IOMMU group number of a PCI device, from its {@code iommu_group} link. */
    public static int iommuGroup(String bdf) {
        try {
            return Integer.parseInt(Files.readSymbolicLink(sysfs(bdf).resolve("iommu_group")).getFileName()
                    .toString());
        } catch (IOException e) {
            throw new UncheckedIOException("no IOMMU group for " + bdf, e);
        }
    }

    /** The name of the driver bound to a PCI device, or {@code null} when none is. */
    public static String driver(String bdf) {
        Path link = sysfs(bdf).resolve("driver");
        try {
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> read() {
        Map<String, String> devices = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(DEVICES_FILE)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    devices.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + DEVICES_FILE, e);
        }
        return Collections.unmodifiableMap(devices);
    }
}
