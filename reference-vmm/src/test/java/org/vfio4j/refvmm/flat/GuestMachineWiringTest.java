package org.vfio4j.refvmm.flat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.pci.bus.ConfigMechanism1;

/**
 * The machine as the demo builds it, from the Guice modules, on the real /dev/kvm of the build host (no VFIO device
 * needed): the host bridge answers the same through CF8/CFC and ECAM, and the benchmark program runs to its exit port,
 * timing the host bridge's config reads and skipping the device measurements.
 */
class GuestMachineWiringTest {

    @Test
    void guiceBuiltMachineRunsTheBenchmarkProgramWithoutDevices() throws Exception {
        assumeTrue(Files.exists(Path.of("/dev/kvm")), "no /dev/kvm");
        assumeTrue(GuestCode.available(), "binutils (as/ld/objcopy) not available");
        try (GuestMachine m = GuestMachine.create(16L << 20)) {
            m.pioBus().write(ConfigMechanism1.PORT, 4, 0x8000_0000L);
            long viaCf8 = m.pioBus().read(ConfigMechanism1.PORT + 4, 4);
            long viaEcam = m.vmm().mmioBus().read(GuestMachine.ECAM_BASE, 4);
            assertNotEquals(0xffff_ffffL, viaCf8, "host bridge at 00:00.0");
            assertEquals(viaCf8, viaEcam, "ECAM and CF8/CFC see the same host bridge");

            m.load(GuestImage.build("bench"));
            GuestMachine.GuestRun run = m.run(Duration.ofMinutes(2));
            assertTrue(run.succeeded(), run.toString());
            assertEquals(viaCf8, run.value("confighb.value"), "the program times the host bridge's config reads");
            assertTrue(run.value("confighb.cycles") > 0, run.toString());
            assertTrue(run.value("confighb.p50") > 0 && run.value("confighb.p50") <= run.value("confighb.p99")
                    && run.value("confighb.p99") <= run.value("confighb.max"), "the per-op percentiles: " + run);
            if (m.configAddressCoalesced()) {
                assertEquals(1.0, (double) run.exitsBetween("mark.confighb.start", "confighb.cycles",
                        KvmAbi.Exit.IO) / run.value("confighb.cycles.n"), 0.02,
                        "with 0xcf8 coalesced a config read exits once (plus the line's characters): " + run);
            }
            for (String op : new String[] {"mapped", "config", "msi", "msix", "ioport"}) {
                assertFalse(run.text().contains(op + ".cycles="), "no device for " + op + ": " + run.text());
            }
            assertTrue(run.exits().getOrDefault(KvmAbi.Exit.name(KvmAbi.Exit.IO), 0L) > 0, run.toString());
        }
    }
}
