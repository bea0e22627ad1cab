package org.vfio4j.refvmm.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * What the L2 guest's bochs check (testbed/l2/drivers.sh) leaves on a 1280x800 screen, checked pixel by pixel: a
 * line of fbcon text in the top 16 pixel rows, black below it down to pixel row 32, then eight bands of 96 pixel rows
 * in the console's background colours.
 */
final class ScreenCheck {
    /** fbcon's eight background colours (the VGA palette) in the order the guest draws them. */
    static final int[] BANDS = {0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa};
    static final int WIDTH = 1280;
    static final int HEIGHT = 800;
    static final int CELL_WIDTH = 8;
    static final int CELL_HEIGHT = 16;
    static final int FIRST_BAND_ROW = 2 * CELL_HEIGHT;
    static final int BAND_HEIGHT = 6 * CELL_HEIGHT;

    private ScreenCheck() {
    }

    static int rgb(BufferedImage image, int x, int y) {
        return image.getRGB(x, y) & 0xffffff;
    }

    /** The picture: text where the text is, black elsewhere on the text rows, every band pixel its colour. */
    static void assertPicture(BufferedImage image, String text) {
        assertEquals(WIDTH, image.getWidth(), "screen width");
        assertEquals(HEIGHT, image.getHeight(), "screen height");
        int textWidth = text.length() * CELL_WIDTH;
        long lit = 0;
        for (int y = 0; y < CELL_HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                if (rgb(image, x, y) != 0) {
                    assertTrue(x < textWidth, String.format("a lit pixel right of the text at %d,%d", x, y));
                    lit++;
                }
            }
        }
        // Text covers some, never all, of its cells' pixels.
        assertTrue(lit > textWidth && lit < textWidth * CELL_HEIGHT / 2, "lit pixels in the text row: " + lit);
        for (int y = CELL_HEIGHT; y < FIRST_BAND_ROW; y++) {
            for (int x = 0; x < WIDTH; x++) {
                assertEquals(0, rgb(image, x, y), String.format("black below the text at %d,%d", x, y));
            }
        }
        for (int band = 0; band < BANDS.length; band++) {
            for (int y = FIRST_BAND_ROW + band * BAND_HEIGHT; y < FIRST_BAND_ROW + (band + 1) * BAND_HEIGHT; y++) {
                for (int x = 0; x < WIDTH; x++) {
                    int found = rgb(image, x, y);
                    if (found != BANDS[band]) {
                        assertEquals(String.format("%06x", BANDS[band]), String.format("%06x", found),
                                String.format("band %d at %d,%d", band, x, y));
                    }
                }
            }
        }
    }

    /** Up to 10 pixels that differ, as "x,y: a b", and the count. */
    static List<String> differences(BufferedImage a, BufferedImage b) {
        List<String> out = new ArrayList<>();
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            out.add("size " + a.getWidth() + "x" + a.getHeight() + " vs " + b.getWidth() + "x" + b.getHeight());
            return out;
        }
        long count = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                if (rgb(a, x, y) != rgb(b, x, y)) {
                    if (++count <= 10) {
                        out.add(String.format("%d,%d: %06x %06x", x, y, rgb(a, x, y), rgb(b, x, y)));
                    }
                }
            }
        }
        if (count > 10) {
            out.add(count + " pixels in all");
        }
        return out;
    }
}
