package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.InterruptMode;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * edu's INTx passed through: the {@code edu_intx} guest program routes the pin through the IOAPIC and raises edu's
 * interrupt three times. Each one must reach the handler; the second and third only can if the guest's EOI made
 * KVM signal the resample eventfd and the VMM unmasked the host's INTx again (vfio-pci masks it on every
 * interrupt), so three deliveries prove the trigger and the unmask path.
 */
@Tag("testbed")
class EduIntxPassthroughTest {

    @Test
    void intxFiresAgainAfterEachEoiThroughTheResampleUnmask() throws Exception {
        try (PassthroughSession s = PassthroughSession.run(TestbedDevices.bdf("edu"), "edu_intx", Map.of(),
                EduPassthroughTest.RAM, Duration.ofMinutes(5))) {
            GuestMachine.GuestRun run = s.guest();
            System.out.println(run);
            System.out.println(s.counters());
            assertTrue(run.succeeded(), run.toString());
            assertEquals(1, run.value("intx.pin"), "edu uses INTA");
            assertEquals(0, run.value("command") & 0x400, "INTx not disabled in the command register");
            assertEquals(1, run.value("irq.count1"), run.toString());
            assertEquals(1, run.value("irq.status1"));
            assertEquals(2, run.value("irq.count2"), "fired again after the first EOI");
            assertEquals(2, run.value("irq.status2"));
            assertEquals(3, run.value("irq.count3"));
            assertEquals(4, run.value("irq.status3"));
            assertEquals(InterruptMode.INTX, s.interruptMode());
        }
    }
}
