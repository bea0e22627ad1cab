package org.vfio4j.examples.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.testing.TestbedDevices;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** vfio-inspect on the testbed guest's real vfio-pci devices (edu, nvme, e1000e, ivshmem). */
@Tag("testbed")
class VfioInspectTestbedTest {

    @Test
    void inspectsEveryBoundDeviceWithoutError() throws Exception {
        Map<String, String> devices = TestbedDevices.all();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = VfioInspect.run(Syscalls.linux(), new PrintWriter(out), new PrintWriter(err), "--json");
        assertEquals(0, exit, out + "\n" + err);
        JsonNode list = JsonMapper.builder().build().readTree(out.toString()).get("devices");
        Map<String, JsonNode> byBdf = new HashMap<>();
        for (JsonNode d : list) {
            byBdf.put(d.get("device").asString(), d);
        }
        assertEquals(devices.size(), byBdf.size(), "one report per bound device: " + byBdf.keySet());
        for (JsonNode d : list) {
            assertTrue(d.get("error").isNull(), d.toString());
            assertTrue(d.get("groupViable").asBoolean());
            boolean hasMsiWindow = false;
            for (JsonNode r : d.get("iommu").get("iovaRanges")) {
                long start = Long.decode(r.get("start").asString());
                long end = Long.decode(r.get("end").asString());
                hasMsiWindow |= start <= 0xfee00000L && end >= 0xfeefffffL;
            }
            assertFalse(hasMsiWindow, "no IOVA range covers the MSI window: " + d.get("iommu"));
        }
        JsonNode nvme = byBdf.get(devices.get("nvme"));
        assertNotNull(nvme);
        assertTrue(region(nvme, 0).get("capabilities").toString().contains("msix-mappable"));
        assertEquals(devices.get("nvme"), nvme.get("hotResetDependencies").get(0).get("device").asString());
        JsonNode e1000e = byBdf.get(devices.get("e1000e"));
        JsonNode bar2 = region(e1000e, 2);
        assertFalse(bar2.get("flagNames").toString().contains("MMAP"), "the I/O BAR is not mmappable");
        assertEquals("0x40000", region(e1000e, 6).get("size").asString(), "the 256 KiB ROM");
        JsonNode edu = byBdf.get(devices.get("edu"));
        assertEquals("0x100000", region(edu, 0).get("size").asString(), "edu BAR0 is 1 MiB");
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
