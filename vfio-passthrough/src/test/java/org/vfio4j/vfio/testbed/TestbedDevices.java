package org.vfio4j.vfio.testbed;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The PCI devices the testbed guest bound to vfio-pci, as {@code testbed/run} publishes them: one {@code name=BDF}
 * line per device in {@code /tmp/testbed-devices} (names: edu, nvme, e1000e, ivshmem). Outside the guest the file
 * does not exist and every lookup fails the test with a message saying how to run it.
 */
final class TestbedDevices {
    /** Where the guest's init writes the device list. */
    static final Path DEVICES_FILE = Path.of("/tmp/testbed-devices");

    private TestbedDevices() {
    }

    /** All bound devices, name to BDF, in the order they were bound. */
    static Map<String, String> all() {
        if (!Files.isRegularFile(DEVICES_FILE)) {
            fail(DEVICES_FILE + " is missing: this test runs only inside the testbed guest "
                    + "(mvn -B verify -Ptestbed, or testbed/run -- testbed/junit ...)");
        }
        Map<String, String> devices = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(DEVICES_FILE)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    devices.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (devices.isEmpty()) {
            fail(DEVICES_FILE + " lists no devices");
        }
        return Collections.unmodifiableMap(devices);
    }

    /** The BDF of the named device; fails the test when the guest was booted without it. */
    static String bdf(String name) {
        String bdf = all().get(name);
        if (bdf == null) {
            fail("the testbed guest has no " + name + " device (booted with --devices " + all().keySet() + ")");
        }
        return bdf;
    }

    /** The sysfs directory of a PCI device. */
    static Path sysfs(String bdf) {
        return Path.of("/sys/bus/pci/devices", bdf);
    }

    /** The IOMMU group number of a PCI device, from its {@code iommu_group} link. */
    static int iommuGroup(String bdf) {
        try {
            return Integer.parseInt(Files.readSymbolicLink(sysfs(bdf).resolve("iommu_group")).getFileName()
                    .toString());
        } catch (IOException e) {
            throw new UncheckedIOException("no IOMMU group for " + bdf, e);
        }
    }

    /** The name of the driver bound to a PCI device, or {@code null} when none is. */
    static String driver(String bdf) {
        Path link = sysfs(bdf).resolve("driver");
        try {
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
