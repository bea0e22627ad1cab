package org.vfio4j.refvmm.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The screen check against a real screenshot: the L2 guest's bochs check run on an emulated bochs-display under
 * QEMU TCG (no passthrough), saved by QEMU's screendump. A changed pixel is caught.
 */
class ScreenCheckTest {
    private static final String TEXT = "vfio4j: bochs-display passed through, drawn by the L2 guest";

    private static BufferedImage screen() throws IOException {
        try (InputStream in = ScreenCheckTest.class.getResourceAsStream("/screens/bochs-l2-qemu-tcg.png")) {
            return ImageIO.read(in);
        }
    }

    @Test
    void aRealScreenshotPassesAndAChangedPixelFails() throws IOException {
        BufferedImage good = screen();
        ScreenCheck.assertPicture(good, TEXT);
        assertEquals(java.util.List.of(), ScreenCheck.differences(good, screen()));
        BufferedImage bad = screen();
        bad.setRGB(640, 500, 0x123456);
        assertThrows(AssertionError.class, () -> ScreenCheck.assertPicture(bad, TEXT));
        assertEquals(1, ScreenCheck.differences(good, bad).size());
        BufferedImage stray = screen();
        stray.setRGB(1200, 5, 0xffffff);
        assertThrows(AssertionError.class, () -> ScreenCheck.assertPicture(stray, TEXT), "lit pixel beyond the text");
    }
}
