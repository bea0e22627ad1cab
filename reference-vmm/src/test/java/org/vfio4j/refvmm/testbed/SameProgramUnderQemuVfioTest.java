package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.refvmm.flat.QemuGuestRunner;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * The same guest image, run by both VMMs on the same host device in the testbed: vfio4j ({@link PassthroughSession})
 * and QEMU ({@code -accel kvm -bios prog.bin -device vfio-pci,host=...}), one after the other. The device-visible
 * results must agree, which is what lets the issue-8 benchmark compare the two on equal terms. (What only the VMM
 * decides may differ: QEMU answers 0 where nothing decodes, vfio4j all-ones like a master abort.)
 */
@Tag("testbed")
@Tag("testbed-nested-qemu")
class SameProgramUnderQemuVfioTest {
    private static final Duration LIMIT = Duration.ofMinutes(5);
    private static final long RAM = 16L << 20;

    @BeforeEach
    void needQemu() {
        assumeTrue(QemuGuestRunner.available(), QemuGuestRunner.QEMU + " not available in the testbed guest");
    }

    @Test
    void eduAgrees() throws Exception {
        compare("edu", "edu", List.of("edu.id", "edu.id.changed", "edu.live", "edu.fact", "dma.mismatches",
                "dma.dst1", "irq.count", "irq.status", "irq.status.after.ack", "irq.count2", "irq.status2",
                "edu.fact5", "moved.bar0", "moved.id"));
    }

    @Test
    void nvmeAgrees() throws Exception {
        compare("nvme", "nvme", List.of("nvme.vs", "nvme.cap.lo", "nvme.cap.hi", "msix.size", "msix.entry0.data",
                "msix.control", "nvme.csts", "irq.count", "nvme.cqe.dw0", "nvme.cqe.dw3", "masked.cqe.dw3",
                "masked.pba", "masked.irq.count", "unmasked.irq.count", "unmasked.pba"));
    }

    @Test
    void e1000eAgrees() throws Exception {
        compare("e1000e", "e1000e", List.of("bar2size", "romsize", "io.ioaddr", "io.ral0", "io.rah0", "mmio.ral0",
                "mmio.rah0", "rom.sig", "rom.blocks", "msix.v50.count1", "msix.v51.count1", "msix.v50.count2",
                "msix.v51.count2"));
    }

    private static void compare(String device, String program, List<String> keys) throws Exception {
        String bdf = TestbedDevices.bdf(device);
        Map<String, Long> ours = new LinkedHashMap<>();
        try (PassthroughSession s = PassthroughSession.run(bdf, program, Map.of(), RAM, LIMIT)) {
            assertTrue(s.guest().succeeded(), s.guest().toString());
            for (String k : keys) {
                ours.put(k, s.guest().value(k));
            }
        }
        GuestMachine.GuestRun qemu = QemuGuestRunner.run(GuestImage.build(program), "kvm", 64,
                List.of("-device", "vfio-pci,host=" + bdf), LIMIT);
        System.out.println(qemu);
        assertTrue(qemu.succeeded(), qemu.toString());
        Map<String, Long> theirs = new LinkedHashMap<>();
        for (String k : keys) {
            theirs.put(k, qemu.value(k));
        }
        assertEquals(theirs, ours, "vfio4j (right) against QEMU vfio-pci (left) on " + device + " " + bdf);
    }
}
