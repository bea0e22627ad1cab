package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Screenshots of a display device's screen, taken by the testbed's own QEMU (the L0 view of a device that an L1 VMM
 * passes through): the test writes NAME.request with the device's QEMU id into {@code $VFIO4J_TESTBED_OUT/screenshots},
 * testbed/run answers with the monitor's screendump as NAME.png there. The PNGs stay in the run's output folder
 * (testbed/target/testbed/guest/results/screenshots on the host).
 */
public final class TestbedScreenshots {
    private TestbedScreenshots() {
    }

    /** The folder screenshots land in. */
    public static Path folder() {
        String out = System.getenv("VFIO4J_TESTBED_OUT");
        assertNotNull(out, "VFIO4J_TESTBED_OUT: this runs only inside the testbed guest");
        return Path.of(out, "screenshots");
    }

    /**
     * Asks for a screenshot of {@code device}'s screen (testbed/run's device names: bochs-display, vga) and waits for
     * it (a hang guard of 60 s, not a timing check).
     */
    public static BufferedImage take(String name, String device) throws IOException, InterruptedException {
        Path dir = folder();
        Files.createDirectories(dir);
        Path png = dir.resolve(name + ".png");
        Files.deleteIfExists(png);
        Files.writeString(dir.resolve(name + ".request"), device);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(dir.resolve(name + ".request.sent")) && Files.exists(png) && Files.size(png) > 0) {
                try {
                    BufferedImage image = ImageIO.read(png.toFile());
                    if (image != null) {
                        return image;
                    }
                } catch (IOException partial) {
                    // QEMU is still writing it
                }
            }
            Thread.sleep(200);
        }
        return fail("no screenshot " + png + " of " + device + " within 60 s (is testbed/run answering requests?)");
    }
}
