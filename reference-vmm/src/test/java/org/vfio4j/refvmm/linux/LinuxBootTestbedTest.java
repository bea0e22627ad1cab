package org.vfio4j.refvmm.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.refvmm.linux.devices.PowerPorts;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * The Linux reference VMM boots the testbed's own kernel in the testbed's nested KVM with edu, nvme and e1000e passed
 * through, to the L2 guest's init, which reports what the kernel found: the ACPI tables, the APICs, ECAM in use,
 * and each passed-through function with its ids, its 4096-byte config space and its BARs placed. A second boot in
 * the same JVM, with two vCPUs, must work as well (nothing left over from the first).
 */
@Tag("testbed")
class LinuxBootTestbedTest {
    private static final Duration LIMIT = Duration.ofMinutes(5);

    @Test
    void bootsToInitWithThePassedThroughFunctionsEnumeratedTwice() throws Exception {
        String edu = device("EDU");
        String nvme = device("NVME");
        String e1000e = device("E1000E");
        long fdsBefore = openFds();
        for (int vcpus = 1; vcpus <= 2; vcpus++) {
            LinuxVmConfig config = LinuxVmConfig.builder(L2Guest.kernel()).initrd(L2Guest.initrd())
                    .commandLine(L2Guest.commandLine("boot")).ramMiB(512).vcpus(vcpus)
                    .device(edu).device(nvme).device(e1000e).build();
            LinuxMachine.Run run;
            try (LinuxMachine machine = LinuxMachine.create(config)) {
                run = machine.run(LIMIT);
            }
            assertEquals(new PowerPorts.Ending(PowerPorts.Cause.EXIT_PORT, 0), run.ending(), run::toString);
            Map<String, String> v = run.values();
            assertEquals("1", v.get("l2.booted"), run::toString);
            assertEquals(String.valueOf(vcpus), v.get("l2.cpus"), "vCPUs the guest brought up");
            assertEquals("1", v.get("l2.madt_smp"), "the kernel used the MADT");
            assertEquals("APIC,DSDT,FACP,MCFG,RSDP,XSDT", v.get("l2.acpi_tables"));
            assertTrue(v.get("l2.ioapic").contains("address 0xfec00000, GSI 0-23"), v.get("l2.ioapic"));
            assertEquals("MMCONFIG for domain 0000 [bus 00-ff] at [mem 0xb0000000-0xbfffffff]", v.get("l2.mmconfig"),
                    "ECAM in use");
            assertEquals("PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])", v.get("l2.pci_root"));
            for (String[] d : new String[][] {{edu, "0000:00:01.0", "256"}, {nvme, "0000:00:02.0", "4096"},
                {e1000e, "0000:00:03.0", "4096"}}) {
                String guest = "pci." + d[1];
                assertEquals(hostId(d[0]), v.get(guest + ".id"), guest + " is the host function");
                assertEquals(d[2], v.get(guest + ".config_size"), guest + " config space size (4096 = PCIe via ECAM)");
                String bars = v.get(guest + ".bars");
                assertNotNull(bars, run::toString);
                assertFalse(bars.isEmpty(), guest + " has its BARs assigned");
            }
        }
        assertEquals(fdsBefore, openFds(), "file descriptors after two boots");
    }

    private static String device(String name) {
        String bdf = System.getenv("VFIO4J_TESTBED_" + name);
        assertNotNull(bdf, "the testbed has no " + name + " device (VFIO4J_TESTBED_" + name + ")");
        return bdf;
    }

    private static String hostId(String bdf) throws IOException {
        Path dir = Sysfs.host().deviceDir(bdf);
        return Files.readString(dir.resolve("vendor")).trim() + ":" + Files.readString(dir.resolve("device")).trim();
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
