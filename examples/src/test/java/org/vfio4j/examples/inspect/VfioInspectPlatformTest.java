package org.vfio4j.examples.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_DEVICE_FLAGS_PLATFORM;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_AUTOMASKED;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_EVENTFD;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_IRQ_INFO_MASKABLE;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.platform.FdtWriter;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** vfio-inspect's platform devices over the fake VFIO kernel: regions, IRQs and the correlated device-tree node. */
class VfioInspectPlatformTest {
    private static final String NAME = "c000000.dma";

    @TempDir
    Path tmp;

    private FakeVfioKernel rig(boolean noIommu) {
        FakeVfioDevice d = new FakeVfioDevice(NAME).flags(VFIO_DEVICE_FLAGS_PLATFORM);
        d.region(0, 0x1000, FakeVfioDevice.READ | FakeVfioDevice.WRITE | FakeVfioDevice.MMAP);
        d.irq(0, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1);
        FakeVfioKernel kernel = new FakeVfioKernel().addDevice(4, d);
        byte[] dtb = new FdtWriter().beginNode("").property("#address-cells", 2).property("#size-cells", 2)
                .beginNode("intc").property("phandle", 1).property("#interrupt-cells", 3).endNode()
                .beginNode("dma@c000000").property("compatible", "vendor,dma").property("reg", 0, 0x0c00_0000, 0,
                        0x1000).property("interrupt-parent", 1).property("interrupts", 0, 9, 4).endNode()
                .endNode().finish();
        FakeSysfs sysfs = new FakeSysfs(tmp).platformDevice("platform", NAME, 4, "vfio-platform")
                .deviceTree(org.vfio4j.vfio.platform.DeviceTree.parse(dtb).root()).ofNode(NAME, "/dma@c000000");
        if (noIommu) {
            sysfs.noIommuGroup(4);
            kernel.noIommuGroup(4);
        }
        return kernel;
    }

    private String run(FakeVfioKernel kernel, int expectedExit, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--root";
        all[1] = tmp.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = VfioInspect.run(kernel, new PrintWriter(out), new PrintWriter(err), all);
        assertEquals(expectedExit, exit, out + "\n" + err);
        return out.toString();
    }

    @Test
    void listsAPlatformDeviceWithItsTreeNode() throws Exception {
        FakeVfioKernel kernel = rig(false);
        String text = run(kernel, 0);
        assertTrue(text.contains("platform device c000000.dma (driver vfio-platform)"), text);
        assertTrue(text.contains("firmware: device tree /dma@c000000 [vendor,dma]"), text);
        assertTrue(text.contains("mem 0: 0xc000000+0x1000"), text);
        assertTrue(text.contains("irq 0: 41 level at /intc"), text);
        assertTrue(text.contains("[READ, WRITE, MMAP]"), text);
        assertTrue(text.contains("[level, EVENTFD, MASKABLE, AUTOMASKED]"), text);

        JsonNode json = JsonMapper.builder().build().readTree(run(kernel, 0, "--json", NAME)
                .getBytes(StandardCharsets.UTF_8));
        JsonNode d = json.get("platformDevices").get(0);
        assertEquals(NAME, d.get("device").asString());
        assertEquals("0x1000", d.get("regions").get(0).get("size").asString());
        assertEquals("device tree /dma@c000000", d.get("firmware").get("source").asString());
    }

    @Test
    void aDeviceWithoutAnIommuIsOpenedOnlyOnRequest() {
        FakeVfioKernel kernel = rig(true);
        String text = run(kernel, 0);
        assertTrue(text.contains("NO IOMMU") && text.contains("--unsafe-noiommu opens it"), text);
        assertEquals(0, kernel.ioctlCount("VFIO_SET_IOMMU"));
        String opened = run(kernel, 0, "--unsafe-noiommu");
        assertTrue(opened.contains("[READ, WRITE, MMAP]"), opened);
    }
}
