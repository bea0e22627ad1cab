package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * The control for {@link EduPassthroughTest}'s zero-exit check: the same id reads with BAR mapping switched off
 * ({@code mmapBars(false)}) are each an MMIO exit, forwarded to the device with a pread, and still read the id. So
 * the exit counting sees trapped reads when there are some, and "zero exits" means the BAR really was mapped.
 */
@Tag("testbed")
class EduTrappedBarPassthroughTest {

    @Test
    void withBarMappingOffEveryIdReadTrapsAndIsForwarded() throws Exception {
        VfioPciOptions trapped = VfioPciOptions.builder(TestbedDevices.bdf("edu")).slot(PassthroughSession.SLOT)
                .mmapBars(false).build();
        long reads = EduPassthroughTest.ID_READS;
        try (PassthroughSession s = PassthroughSession.run(trapped, "edu", Map.of("ID_READS", reads,
                "ONLY_ID", 1L), EduPassthroughTest.RAM, Duration.ofMinutes(5))) {
            GuestMachine.GuestRun r = s.guest();
            assertTrue(r.succeeded(), r.toString());
            assertEquals(EduPassthroughTest.EDU_ID, r.value("edu.id"), r.toString());
            assertEquals(0, r.value("edu.id.changed"));
            // The loop's reads plus the one before it.
            assertEquals(reads + 1, r.exitsBetween("mark.id.start", "mark.id.end", KvmAbi.Exit.MMIO),
                    r.toString());
            BarLayout bar0 = s.counters().bar(0);
            assertEquals(0, bar0.mappedBytes(), bar0.toString());
            assertEquals(reads + 1, bar0.trappedReads(), bar0.toString());
        }
    }
}
