package org.vfio4j.examples.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.vfio.testing.FakeVfioDevice.MMAP;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.iommu.IovaRange;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * vfio-inspect over the fake VFIO kernel (this machine has no /dev/vfio; the testbed runs it on real devices).
 * The fake answers every ioctl as the uAPI lays it out, so these tests check the CLI's decoding and output.
 */
class VfioInspectTest {
    private static final String NIC = "0000:01:00.0";
    private static final String LONELY = "0000:00:1f.0";

    private FakeVfioKernel kernel;

    private Path rig(Path tmp) {
        FakeVfioDevice nic = new FakeVfioDevice(NIC);
        nic.region(VFIO_PCI_BAR0_REGION_INDEX, 0x10000, READ | WRITE | MMAP).sparseMmap(0x0, 0x2000, 0x3000, 0xd000);
        nic.region(VFIO_PCI_BAR3_REGION_INDEX, 0x4000, READ | WRITE | MMAP).msixMappable();
        nic.region(VFIO_PCI_ROM_REGION_INDEX, 0x40000, READ);
        nic.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x1000, READ | WRITE);
        nic.region(9, 0x2000, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL,
                VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION);
        nic.irq(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1)
                .irq(VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 5);
        nic.hotResetDevices(List.of(new DependentDevice(7, 0, 1, 0), new DependentDevice(8, 0, 1, 1)));
        kernel = new FakeVfioKernel()
                .addDevice(7, nic)
                .addDevice(9, new FakeVfioDevice(LONELY)).viable(9, false)
                .iovaRanges(new IovaRange(0, 0xfedfffffL), new IovaRange(0xfef00000L, 0xffffffffffffL));
        new FakeSysfs(tmp)
                .pciDevice(NIC, 7, "vfio-pci")
                .pciDevice(LONELY, 9, "vfio-pci")
                .pciDevice("0000:00:1f.3", 9, "snd_hda_intel");
        return tmp;
    }

    private record Run(int exit, String out) {
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = VfioInspect.run(kernel, new PrintWriter(out), new PrintWriter(err), args);
        return new Run(exit, out + err.toString());
    }

    @Test
    void jsonCarriesGroupIommuRegionsCapsIrqsAndHotResetDependencies(@TempDir Path tmp) throws Exception {
        Path root = rig(tmp);
        Run r = run("--json", "--root", root.toString(), NIC);
        assertEquals(0, r.exit(), r.out());
        JsonNode dev = JsonMapper.builder().build().readTree(r.out()).get("devices").get(0);
        assertEquals(NIC, dev.get("device").asString());
        assertEquals(7, dev.get("iommuGroup").asInt());
        assertTrue(dev.get("groupViable").asBoolean());
        JsonNode ranges = dev.get("iommu").get("iovaRanges");
        assertEquals("0xfedfffff", ranges.get(0).get("end").asString());
        assertEquals("0xfef00000", ranges.get(1).get("start").asString());
        assertTrue(dev.get("iommu").get("dmaAvailable").asLong() > 0);
        JsonNode bar0 = region(dev, VFIO_PCI_BAR0_REGION_INDEX);
        assertEquals("BAR0", bar0.get("name").asString());
        assertEquals("0x10000", bar0.get("size").asString());
        assertTrue(bar0.get("capabilities").get(0).asString().contains("sparse-mmap"), bar0.toString());
        assertTrue(region(dev, VFIO_PCI_BAR3_REGION_INDEX).get("capabilities").get(0).asString()
                .contains("msix-mappable"));
        JsonNode opregion = region(dev, 9);
        assertTrue(opregion.get("capabilities").get(0).asString().contains("Intel IGD OpRegion"), opregion.toString());
        JsonNode msix = dev.get("irqs").get(VFIO_PCI_MSIX_IRQ_INDEX);
        assertEquals("MSIX", msix.get("name").asString());
        assertEquals(5, msix.get("count").asInt());
        JsonNode deps = dev.get("hotResetDependencies");
        assertEquals(2, deps.size());
        assertEquals("0000:01:00.1", deps.get(1).get("device").asString());
        assertEquals(8, deps.get(1).get("iommuGroup").asInt());
        assertEquals(0, kernel.openFakeFds(), "every fd the inspection opened is closed");
    }

    @Test
    void textListsEveryDeviceBoundToVfioAndNamesWhatMakesAGroupNotViable(@TempDir Path tmp) {
        Path root = rig(tmp);
        Run r = run("--root", root.toString());
        assertEquals(VfioInspect.EXIT_DEVICE_FAILED, r.exit(), r.out());
        assertTrue(r.out().contains("device " + NIC), r.out());
        assertTrue(r.out().contains("iova range 0x0-0xfedfffff"), r.out());
        assertTrue(r.out().contains("cap msix-mappable"), r.out());
        assertTrue(r.out().contains("0000:01:00.1 (group 8)"), r.out());
        assertTrue(r.out().contains("iommu group 9: NOT viable"), r.out());
        assertTrue(r.out().contains("0000:00:1f.3"), "names the device bound elsewhere: " + r.out());
    }

    @Test
    void noVfioDevicesIsAClearMessageAndExitZero(@TempDir Path tmp) {
        kernel = new FakeVfioKernel();
        Run r = run("--root", tmp.toString());
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("No PCI device is bound to vfio-pci"), r.out());
    }

    @Test
    void usageErrorExitsTwo() {
        kernel = new FakeVfioKernel();
        assertEquals(2, run("--no-such-option").exit());
    }

    /** The region with VFIO index {@code index} (the list leaves out regions the device lacks, such as VGA). */
    private static JsonNode region(JsonNode device, int index) {
        for (JsonNode r : device.get("regions")) {
            if (r.get("index").asInt() == index) {
                return r;
            }
        }
        throw new AssertionError("no region " + index + " in " + device.get("regions"));
    }
}
