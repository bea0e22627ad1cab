package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.testing.TestbedDevices;
import org.vfio4j.vfio.vga.LegacyVgaQuirk;

/**
 * A passed-through standard VGA (the testbed's {@code -device VGA}, left in text mode 3 by its firmware): with
 * {@link LegacyVgaQuirk} the guest program's writes to the text buffer at 0xB8000 and its CRTC and attribute
 * controller port accesses reach the device through vfio-pci's VGA region, and the screenshot the testbed's QEMU
 * takes of the VGA's screen shows them. Without the quirk nothing claims the legacy ranges.
 */
@Tag("testbed")
class LegacyVgaTestbedTest {
    private static final Duration LIMIT = Duration.ofMinutes(3);
    private static final long RAM = 16L << 20;

    private static boolean claimsVgaWindow(GuestMachine machine) {
        for (TrapBus.Registration r : machine.vmm().mmioBus().registrations()) {
            if (r.base() == LegacyVgaQuirk.MEMORY_BASE) {
                return true;
            }
        }
        return false;
    }

    /**
     * vfio-pci offers the VGA region only with CONFIG_VFIO_PCI_VGA, which Debian's 6.1 has and the testbed's "next"
     * kernel (testbed/kernel/next.config) does not.
     */
    private static void assumeVgaRegion() {
        assumeFalse("next".equals(System.getenv("VFIO4J_TESTBED_KERNEL")),
                "the next testbed kernel is built without CONFIG_VFIO_PCI_VGA (no VGA region)");
    }

    @Test
    void textAndPortsReachTheScreenThroughTheVgaRegion() throws Exception {
        assumeVgaRegion();
        String vga = TestbedDevices.bdf("vga");
        VfioPciOptions options = VfioPciOptions.builder(vga).slot(PassthroughSession.SLOT)
                .quirk(new LegacyVgaQuirk()).build();
        try (PassthroughSession s = PassthroughSession.run(options, "vga", Map.of(), RAM, LIMIT)) {
            GuestMachine.GuestRun run = s.guest();
            assertTrue(run.succeeded(), run::toString);
            assertTrue(claimsVgaWindow(s.machine()), "the VGA window traps to the quirk");
            assertEquals(0x0fdb, run.value("text.word0"), "a full block, read back from the device's text buffer");
            assertEquals(0x0720, run.value("text.word1"));
            assertEquals(0xf0, run.value("crtc.cursor_low"), "CRTC cursor location, read back through 0x3d5");
            assertEquals(0x00, run.value("attr.overscan"), "attribute controller register, read back through 0x3c1");
            assertEquals(1, run.value("misc.output") & 1, "colour ports selected");
        }
        BufferedImage screen = TestbedScreenshots.take("vga-text", "vga");
        int cellWidth = screen.getWidth() / 80;
        int cellHeight = screen.getHeight() / 25;
        assertTrue(cellWidth == 8 || cellWidth == 9, "a text-mode screen: " + screen.getWidth() + "x" + screen.getHeight());
        for (int col = 0; col < 80; col++) {
            int rgb = screen.getRGB(col * cellWidth + cellWidth / 2, cellHeight / 2) & 0xffffff;
            assertEquals(col % 2 == 0 ? 0xffffff : 0x000000, rgb,
                    String.format("row 0, column %d: %s", col, col % 2 == 0 ? "a full block" : "a space"));
        }
        long lit = 0;
        for (int y = 2 * cellHeight; y < 3 * cellHeight; y++) {
            for (int x = 0; x < screen.getWidth(); x++) {
                lit += (screen.getRGB(x, y) & 0xffffff) == 0x0000aa ? 0 : 1;
            }
        }
        assertTrue(lit > 0, "the message in row 2 shows (pixels other than its blue background)");
    }

    @Test
    void withoutTheQuirkTheLegacyRangesStayUnclaimed() throws Exception {
        String vga = TestbedDevices.bdf("vga");
        VfioPciOptions options = VfioPciOptions.builder(vga).slot(PassthroughSession.SLOT).build();
        try (PassthroughSession s = PassthroughSession.run(options, "vga", Map.of(), RAM, LIMIT)) {
            GuestMachine.GuestRun run = s.guest();
            assertTrue(run.succeeded(), run::toString);
            assertTrue(!claimsVgaWindow(s.machine()), "nothing claims the VGA window");
            assertEquals(0xffff, run.value("text.word0"), "nothing decodes at 0xB8000");
            assertEquals(0xff, run.value("crtc.cursor_low"), "nothing decodes at 0x3d5");
        }
    }
}
