package org.vfio4j.vfio.igd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.Vfio;
import org.vfio4j.vfio.VfioStack;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;

/** Finding device-specific regions by their type capability, and who claims them. */
class DeviceRegionRegistryTest {
    @TempDir
    Path tmp;

    private static final RegionType EDID = new RegionType(VFIO_REGION_TYPE_GFX, VFIO_REGION_SUBTYPE_GFX_EDID);

    /** Opens a fake IGD-like device whose region 9 chain is type + an unknown capability, for {@code align8}. */
    private List<RegionInfo> regions(boolean align8, FakeVfioKernel kernel) {
        FakeVfioDevice d = new FakeVfioDevice("0000:00:02.0");
        d.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x100, READ | WRITE);
        d.region(VFIO_PCI_VGA_REGION_INDEX, 0xc0000, READ | WRITE);
        d.region(9, 0x2000, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL,
                VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION).cap(0x7777, 1, new byte[12]);
        d.region(10, 0x100, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL,
                VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG);
        d.region(11, 0x200, READ | WRITE).type(VFIO_REGION_TYPE_GFX, VFIO_REGION_SUBTYPE_GFX_EDID);
        d.region(12, 0x1000, READ); // no type capability: not a device-specific region the registry can name
        kernel.alignCapabilities(align8).addDevice(1, d);
        Vfio vfio = new Vfio(kernel, new FakeSysfs(tmp.resolve("a" + align8)).pciDevice("0000:00:02.0", 1,
                "vfio-pci").sysfs());
        try (VfioStack s = vfio.openPciDevice("0000:00:02.0")) {
            long before = kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO");
            RegionInfo op = s.device().regionInfo(9);
            assertEquals(2, kernel.ioctlCount("VFIO_DEVICE_GET_REGION_INFO") - before,
                    "the first 32-byte query cannot hold the chain; the kernel asks for more and it is re-issued");
            assertEquals(List.of(), op.chainProblems());
            return s.device().regions();
        }
    }

    private static DeviceRegionHandler handler(String name, RegionType type) {
        return new DeviceRegionHandler() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public RegionType claims() {
                return type;
            }

            @Override
            public AutoCloseable install(QuirkContext context, VfioRegion region) {
                return () -> { };
            }
        };
    }

    @Test
    void findsTypedRegionsFromIndex9AndSplitsClaimedFromUnclaimed() {
        for (boolean align8 : new boolean[] {false, true}) {
            List<RegionInfo> all = regions(align8, new FakeVfioKernel());
            List<RegionInfo> specific = DeviceRegionRegistry.deviceSpecific(all);
            assertEquals(List.of(9, 10, 11), specific.stream().map(RegionInfo::index).toList(),
                    "region 12 has no type; indices below 9 are vfio-pci's fixed ones");
            DeviceRegionRegistry reg = new IgdQuirk().registry();
            DeviceRegionRegistry.Plan plan = reg.plan(all);
            assertEquals(List.of("igd-opregion", "igd-host-bridge"),
                    plan.claimed().values().stream().map(DeviceRegionHandler::name).toList());
            assertEquals(List.of(11), plan.unclaimed().stream().map(RegionInfo::index).toList(),
                    "the EDID region has no handler here and is ignored");
            assertEquals(9, plan.region(RegionType.INTEL_IGD_OPREGION).orElseThrow().index());
            assertTrue(plan.region(RegionType.INTEL_IGD_LPC_CFG).isEmpty());
        }
    }

    @Test
    void aPairCanBeClaimedOnce() {
        DeviceRegionRegistry reg = new DeviceRegionRegistry().register(handler("first", EDID));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> reg.register(handler("second", EDID)));
        assertTrue(e.getMessage().contains("first") && e.getMessage().contains("second"), e.getMessage());
        assertEquals("first", reg.handler(EDID).orElseThrow().name());
        reg.register(handler("other", RegionType.INTEL_IGD_LPC_CFG));
        assertEquals("other", reg.handler(RegionType.INTEL_IGD_LPC_CFG).orElseThrow().name());
    }

    @Test
    void aRegistrationForEdidClaimsIt() {
        List<RegionInfo> all = regions(false, new FakeVfioKernel());
        DeviceRegionRegistry reg = new DeviceRegionRegistry().register(handler("edid", EDID));
        DeviceRegionRegistry.Plan plan = reg.plan(all);
        assertEquals(List.of(11), plan.claimed().keySet().stream().map(RegionInfo::index).toList());
        assertEquals(List.of(9, 10), plan.unclaimed().stream().map(RegionInfo::index).toList());
    }
}
