package org.vfio4j.vfio.testbed.passthrough;

/**
 * The tests' name for {@link org.vfio4j.vfio.machine.GuestImage} (main code, shared with the demo and the
 * benchmark). The test-only programs are under {@code src/test/resources/guest/}, which that class also searches.
 */
public final class GuestImage extends org.vfio4j.vfio.machine.GuestImage {
    private GuestImage() {
    }
}
