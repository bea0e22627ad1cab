package org.vfio4j.vfio.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Memory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * The rig itself: every device the guest bound is driven by vfio-pci and has a usable group node in /dev/vfio, and
 * the container speaks the VFIO API with the type1v2 IOMMU. Uses the syscall seam directly, so it proves the testbed
 * independently of the VFIO layer under test.
 */
@Tag("testbed")
class VfioGroupsTestbedTest {
    // linux/vfio.h: VFIO_TYPE ';', VFIO_BASE 100; all VFIO ioctls are _IO with argsz in the struct.
    private static final Ioctl VFIO_GET_API_VERSION = Ioctl.io("VFIO_GET_API_VERSION", ';', 100);
    private static final Ioctl VFIO_CHECK_EXTENSION = Ioctl.io("VFIO_CHECK_EXTENSION", ';', 101);
    private static final Ioctl VFIO_GROUP_GET_STATUS = Ioctl.io("VFIO_GROUP_GET_STATUS", ';', 103);
    private static final int VFIO_TYPE1V2_IOMMU = 3;
    private static final int VFIO_GROUP_FLAGS_VIABLE = 1;
    private static final int VFIO_GROUP_FLAGS_CONTAINER_SET = 2;
    /** struct vfio_group_status { __u32 argsz; __u32 flags; }. */
    private static final int GROUP_STATUS_SIZE = 8;

    private final Syscalls sys = Syscalls.linux();

    @Test
    void theRecipeDevicesAreBound() {
        // Exactly the devices the testbed was booted with (testbed/run --devices; the Maven profile's default adds
        // the display devices and the two-function "pair" to the four recipe ones), and the four among them.
        String booted = System.getenv("VFIO4J_TESTBED_DEVICES");
        assertNotNull(booted, "VFIO4J_TESTBED_DEVICES");
        Set<String> expected = new TreeSet<>();
        for (String name : booted.trim().split("\\s+")) {
            expected.addAll(name.equals("pair") ? List.of("pair-nic", "pair-edu") : List.of(name));
        }
        assertEquals(expected, new TreeSet<>(TestbedDevices.all().keySet()));
        assertTrue(TestbedDevices.all().keySet().containsAll(Set.of("edu", "nvme", "e1000e", "ivshmem")),
                TestbedDevices.all().keySet().toString());
    }

    @Test
    void everyBoundDeviceIsDrivenByVfioPciAndHasAViableGroupNode() {
        Set<Integer> groups = new TreeSet<>();
        for (Map.Entry<String, String> device : TestbedDevices.all().entrySet()) {
            String name = device.getKey();
            String bdf = device.getValue();
            assertEquals("vfio-pci", TestbedDevices.driver(bdf), name + " " + bdf + " driver");
            int group = TestbedDevices.iommuGroup(bdf);
            groups.add(group);
            Path node = Path.of("/dev/vfio", Integer.toString(group));
            assertTrue(Files.exists(node), name + " " + bdf + ": " + node + " is missing");
            try (FileDescriptor fd = FileDescriptor.open(sys, node.toString(), Linux.O_RDWR)) {
                Memory status = new Memory(GROUP_STATUS_SIZE);
                status.setInt(0, GROUP_STATUS_SIZE);
                status.setInt(4, 0);
                fd.ioctl(VFIO_GROUP_GET_STATUS, status);
                int flags = status.getInt(4);
                assertEquals(VFIO_GROUP_FLAGS_VIABLE, flags & VFIO_GROUP_FLAGS_VIABLE,
                        name + " " + bdf + " group " + group + " not viable, flags " + flags);
                assertEquals(0, flags & VFIO_GROUP_FLAGS_CONTAINER_SET,
                        name + " group " + group + " already in a container");
            }
        }
        // The emulated IOMMU isolates each device: one group per device, so tests can take them independently; the
        // exception is the pair, two functions without ACS in one slot, which the kernel puts in one group.
        boolean pair = TestbedDevices.all().containsKey("pair-nic");
        assertEquals(TestbedDevices.all().size() - (pair ? 1 : 0), groups.size(), "groups " + groups);
        if (pair) {
            assertEquals(TestbedDevices.iommuGroup(TestbedDevices.bdf("pair-nic")),
                    TestbedDevices.iommuGroup(TestbedDevices.bdf("pair-edu")));
        }
    }

    @Test
    void theContainerSpeaksApiVersionZeroAndSupportsType1v2() {
        try (FileDescriptor container = FileDescriptor.open(sys, "/dev/vfio/vfio", Linux.O_RDWR)) {
            assertEquals(0, container.ioctl(VFIO_GET_API_VERSION, 0L));
            assertEquals(1, container.ioctl(VFIO_CHECK_EXTENSION, VFIO_TYPE1V2_IOMMU));
        }
    }
}
