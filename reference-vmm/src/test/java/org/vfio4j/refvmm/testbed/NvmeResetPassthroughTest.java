package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.reset.ResetMethod;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * Reset in the middle of a guest's work: the {@code nvme} program (built with RESET_PORT) asks the VMM for a reset
 * after its first admin command; the VMM calls {@link org.vfio4j.vfio.pci.VfioPciDevice#reset()} right then. The
 * controller must really have been reset (CC back to 0), while everything the guest programmed through the
 * virtualized config space survives (BAR0, command, MSI-X enable and table), and after bringing the controller up
 * again a command's completion interrupts the guest as before.
 */
@Tag("testbed")
class NvmeResetPassthroughTest {
    private static final long RAM = 16L << 20;
    private static final int RESET_CID = 0x50;

    @Test
    void deviceResetKeepsTheGuestsProgrammingAndInterruptsStillArrive() throws Exception {
        AtomicReference<ResetMethod> used = new AtomicReference<>();
        VfioPciOptions options = VfioPciOptions.builder(TestbedDevices.bdf("nvme")).slot(PassthroughSession.SLOT)
                .build();
        try (PassthroughSession s = PassthroughSession.run(options, "nvme",
                Map.of("RESET_PORT", (long) GuestMachine.REQUEST_PORT), RAM, Duration.ofMinutes(5),
                (machine, device) -> machine.onRequest(request -> used.set(device.reset())))) {
            GuestMachine.GuestRun run = s.guest();
            System.out.println(run);
            assertTrue(run.succeeded(), run.toString());
            assertEquals(ResetMethod.DEVICE_RESET, used.get(), "nvme has a function reset");
            assertEquals(ResetMethod.DEVICE_RESET, s.counters().lastReset());
            assertEquals(0, run.value("reset.nvme.cc"), "the controller was reset: CC.EN is 0 again; " + run);
            assertEquals(run.value("bar0reg.before"), run.value("reset.bar0reg"), "BAR0 kept its address");
            assertEquals(0x7, run.value("reset.command") & 0x7, "I/O, memory, bus master still on");
            assertEquals(0x8000, run.value("reset.msix.control") & 0xc000, "MSI-X still enabled, unmasked");
            assertEquals(0x41, run.value("reset.msix.entry0.data"), "the table entry survived");
            assertEquals(run.value("nvme.vs"), run.value("reset.nvme.vs"), "BAR0 still reaches the device");
            assertTrue(run.value("reset.enable.polls.left") > 0, "the controller came up again");
            assertEquals(2, run.value("reset.irq.count"), "the completion after the reset interrupted");
            assertEquals(0x10000 | RESET_CID, run.value("reset.cqe.dw3"), "first pass of a fresh queue, success");
            assertEquals(1, run.value("masked.pba") & 1, "the masked-vector part still works after the reset");
            assertEquals(2, run.value("masked.irq.count"));
            assertEquals(3, run.value("unmasked.irq.count"));
        }
    }
}
