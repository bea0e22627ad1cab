package org.vfio4j.examples.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.iommufd.IommufdVfio;
import org.vfio4j.vfio.testing.TestbedDevices;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** vfio-inspect through the iommufd / cdev backend, on the testbed's "next" kernel only. */
@Tag("testbed")
@Tag("testbed-next")
class VfioInspectIommufdTestbedTest {

    @Test
    void autoUsesTheCdevAndReportsTheIoasRanges() throws Exception {
        assumeTrue(IommufdVfio.hostSupported(), "not the testbed's next kernel");
        String nvme = TestbedDevices.bdf("nvme");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = VfioInspect.run(Syscalls.linux(), new PrintWriter(out), new PrintWriter(err), "--json",
                "--backend", "AUTO", nvme);
        assertEquals(0, exit, out + "\n" + err);
        JsonNode d = JsonMapper.builder().build().readTree(out.toString()).get("devices").get(0);
        assertTrue(d.get("error").isNull(), d.toString());
        String type = d.get("iommu").get("type").asString();
        assertTrue(type.startsWith("iommufd IOAS "), type);
        assertTrue(d.get("iommu").get("iovaRanges").size() >= 2, d.get("iommu").toString());
        for (JsonNode r : d.get("iommu").get("iovaRanges")) {
            long start = Long.decode(r.get("start").asString());
            long end = Long.decode(r.get("end").asString());
            assertFalse(start <= 0xfee00000L && end >= 0xfeefffffL, "a range covers the MSI window: " + r);
        }
        JsonNode dep = d.get("hotResetDependencies").get(0);
        assertEquals(nvme, dep.get("device").asString());
        assertEquals(d.get("iommuGroup").asInt(), dep.get("iommuGroup").asInt(),
                "the dev-id answer is reported with the group from sysfs");
    }
}
