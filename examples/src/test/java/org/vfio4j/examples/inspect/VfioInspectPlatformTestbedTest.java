package org.vfio4j.examples.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.testing.TestbedDevices;

/** vfio-inspect on the microvm testbed's vfio-platform device (a virtio-rng transport, no IOMMU). */
@Tag("testbed")
@Tag("testbed-microvm")
class VfioInspectPlatformTestbedTest {

    @Test
    void listsTheVirtioTransportWithItsAcpiResources() {
        String name = TestbedDevices.bdf("rng-mmio");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = VfioInspect.run(Syscalls.linux(), new PrintWriter(out), new PrintWriter(err), "--unsafe-noiommu");
        String text = out.toString();
        System.out.println(text);
        assertEquals(0, exit, text + "\n" + err);
        assertTrue(text.contains("platform device " + name + " (driver vfio-platform)"), text);
        assertTrue(text.contains("NO IOMMU"), text);
        assertTrue(text.contains("firmware: ACPI \\_SB_.VR") && text.contains("(LNRO0005)"), text);
        assertTrue(text.contains("size 0x200"), text);
        assertTrue(text.contains("[READ, WRITE]"), text);
        assertTrue(text.contains("[level, EVENTFD, MASKABLE, AUTOMASKED]"), text);
    }
}
