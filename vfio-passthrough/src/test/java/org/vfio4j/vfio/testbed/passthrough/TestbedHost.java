package org.vfio4j.vfio.testbed.passthrough;

import static org.junit.jupiter.api.Assertions.fail;

import org.vfio4j.vfio.machine.TestbedDevices;

/**
 * Where the testbed guest's vfio-pci devices are: {@code VFIO4J_TESTBED_<NAME>} as exported by {@code testbed/run},
 * else the {@code name=BDF} lines of {@code /tmp/testbed-devices}. Outside the testbed a lookup fails the test with
 * a message saying how to run it.
 */
final class TestbedHost {
    private TestbedHost() {
    }

    /** The host BDF of the testbed device {@code name} (edu, nvme, e1000e, ivshmem). */
    static String bdf(String name) {
        return TestbedDevices.bdf(name).orElseGet(() -> fail("no testbed device " + name
                + ": this test runs only inside the testbed guest (mvn -B verify -Ptestbed, or testbed/run -- "
                + "testbed/junit ...)"));
    }
}
