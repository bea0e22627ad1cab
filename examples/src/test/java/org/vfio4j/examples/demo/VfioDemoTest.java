package org.vfio4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The demo's refusals, which need no VFIO device: they must name the problem and use the documented exit codes. */
class VfioDemoTest {

    @Test
    void refusesADeviceThatIsNotEdu(@TempDir Path root) throws Exception {
        Path dev = Files.createDirectories(root.resolve("sys/bus/pci/devices/0000:01:00.0"));
        Files.writeString(dev.resolve("vendor"), "0x1b36\n");
        Files.writeString(dev.resolve("device"), "0x0010\n");
        StringWriter text = new StringWriter();
        int code = new CommandLine(new VfioDemo(new PrintWriter(text, true)))
                .execute("--sysfs", root.toString(), "01:00.0");
        assertEquals(1, code, text.toString());
        assertTrue(text.toString().contains("0000:01:00.0 is 1b36:0010, not an edu device"), text.toString());
    }

    @Test
    void refusesADeviceSysfsDoesNotHave(@TempDir Path root) {
        StringWriter text = new StringWriter();
        int code = new CommandLine(new VfioDemo(new PrintWriter(text, true)))
                .execute("--sysfs", root.toString(), "0000:07:00.0");
        assertEquals(1, code, text.toString());
        assertTrue(text.toString().contains("not a PCI function in sysfs"), text.toString());
    }

    @Test
    void findsTheFirstEduBoundToVfioPci(@TempDir Path root) throws Exception {
        device(root, "0000:03:00.0", "0x1b36", "0x0010", true);
        device(root, "0000:06:00.0", "0x1234", "0x11e8", true);
        device(root, "0000:02:00.0", "0x1234", "0x11e8", false);
        VfioDemo demo = new VfioDemo(new PrintWriter(new StringWriter()));
        demo.root = root;
        assertEquals("0000:06:00.0", demo.boundEdu().orElseThrow());
        Files.delete(root.resolve("sys/bus/pci/drivers/vfio-pci/0000:06:00.0"));
        assertTrue(demo.boundEdu().isEmpty(), "no edu left on vfio-pci");
    }

    private static void device(Path root, String bdf, String vendor, String device, boolean onVfioPci)
            throws Exception {
        Path dev = Files.createDirectories(root.resolve("sys/bus/pci/devices").resolve(bdf));
        Files.writeString(dev.resolve("vendor"), vendor + "\n");
        Files.writeString(dev.resolve("device"), device + "\n");
        if (onVfioPci) {
            Path driver = Files.createDirectories(root.resolve("sys/bus/pci/drivers/vfio-pci"));
            Files.createSymbolicLink(driver.resolve(bdf), dev);
        }
    }

    @Test
    void shortBdfGetsTheDefaultDomain() {
        assertEquals("0000:01:00.0", VfioDemo.normalize("01:00.0"));
        assertEquals("0000:01:00.0", VfioDemo.normalize("0000:01:00.0"));
    }
}
