package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.pci.InterruptMode;
import org.vfio4j.vfio.pci.UserspaceDelivery;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * QEMU's NVMe controller passed through, driven by the {@code nvme} guest program: it reads registers through the
 * mapped BAR0, programs MSI-X vector 0 through the trapped table, enables MSI-X, brings up the admin queues and
 * submits a Get Features command whose completion interrupts the guest; then it masks the vector, lets a second
 * command complete, finds the vector's PBA bit pending and unmasks it to receive the interrupt.
 */
@Tag("testbed")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NvmePassthroughTest {
    private static final long RAM = 16L << 20;
    private static final long REG_READS = 1000;
    private static final int CID = 0x42;

    private PassthroughSession session;
    private GuestMachine.GuestRun run;

    @BeforeAll
    void runTheNvmeProgram() throws Exception {
        session = PassthroughSession.run(TestbedDevices.bdf("nvme"), "nvme", Map.of("REG_READS", REG_READS), RAM,
                Duration.ofMinutes(5));
        run = session.guest();
        System.out.println(run);
        System.out.println(session.counters());
    }

    @AfterAll
    void detach() {
        if (session != null) {
            session.close();
        }
    }

    @Test
    void theProgramRanToItsEnd() {
        assertTrue(run.succeeded(), run.toString());
    }

    @Test
    void msixVectorProgrammedThroughTheTrappedTableDeliversTheCompletionInterrupt() {
        assertEquals(0x41, run.value("msix.entry0.data"), "the table entry reads back; " + run);
        assertEquals(0, run.value("msix.entry0.ctrl") & 1, "vector 0 unmasked");
        assertEquals(0x8000, run.value("msix.control") & 0xc000, "MSI-X on, function unmasked");
        assertEquals(1, run.value("nvme.csts") & 1, "controller ready");
        assertEquals(1, run.value("irq.count"), run.toString());
        long dw3 = run.value("nvme.cqe.dw3");
        assertEquals(CID, dw3 & 0xffff, "the completion is for our command");
        assertEquals(1, (dw3 >>> 16) & 1, "phase tag of the first pass");
        assertEquals(0, dw3 >>> 17, "status: success");
        assertEquals(InterruptMode.MSIX, session.interruptMode());
        assertTrue(session.counters().kernelRoutedVectors() >= 1, session.counters().toString());
    }

    @Test
    void aMaskedVectorSetsItsPendingBitAndUnmaskingDeliversIt() {
        assertEquals(CID + 1, run.value("masked.cqe.dw3") & 0xffff, "the second command completed; " + run);
        assertEquals(0, run.value("masked.cqe.dw3") >>> 17, "successfully");
        assertEquals(1, run.value("masked.pba") & 1, "vector 0's PBA bit is pending while it is masked");
        assertEquals(1, run.value("masked.irq.count"), "no interrupt reached the guest while masked");
        assertEquals(2, run.value("unmasked.irq.count"), "unmasking delivered the pending interrupt");
        assertEquals(0, run.value("unmasked.pba") & 1, "and cleared the pending bit");
        assertTrue(session.counters().userspaceInterrupts(UserspaceDelivery.MSIX_PENDING) >= 1,
                "the masked vector's signal took the userspace path: " + session.counters());
    }

    @Test
    void theTablePageIsTrappedWhileTheRestOfBar0IsMapped() {
        long bar0Address = run.value("bar0");
        long tableOffset = run.value("msix.table") - bar0Address;
        BarLayout bar0 = session.counters().bar(0);
        assertNotNull(bar0, session.counters().toString());
        assertTrue(covers(bar0.trapped().toArray(BarLayout.Range[]::new), tableOffset), "table at 0x"
                + Long.toHexString(tableOffset) + " must be trapped: " + bar0);
        assertTrue(covers(bar0.mapped().toArray(BarLayout.Range[]::new), 0x08), "registers mapped: " + bar0);
        assertTrue(covers(bar0.mapped().toArray(BarLayout.Range[]::new), 0x1000), "doorbells mapped: " + bar0);
        assertTrue(bar0.mappedBytes() > 0 && bar0.trappedBytes() > 0, bar0.toString());
        // Register reads stayed in the guest; each of the 4 table writes left it.
        assertEquals(0, run.exitsBetween("mark.regs.start", "mark.regs.end", KvmAbi.Exit.MMIO), run.toString());
        assertEquals(4, run.exitsBetween("mark.table.start", "mark.table.end", KvmAbi.Exit.MMIO), run.toString());
        assertTrue(bar0.trappedWrites() >= 4, bar0.toString());
    }

    private static boolean covers(BarLayout.Range[] ranges, long offset) {
        for (BarLayout.Range r : ranges) {
            if (offset >= r.offset() && offset < r.offset() + r.length()) {
                return true;
            }
        }
        return false;
    }
}
