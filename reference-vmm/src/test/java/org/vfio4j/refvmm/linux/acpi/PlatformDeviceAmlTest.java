package org.vfio4j.refvmm.linux.acpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.platform.AcpiResources;
import org.vfio4j.vfio.platform.FirmwareDevice;
import org.vfio4j.vfio.platform.FirmwareRegion;
import org.vfio4j.vfio.platform.GuestIrq;
import org.vfio4j.vfio.platform.GuestRegion;
import org.vfio4j.vfio.platform.PlatformGuestDescription;
import org.vfio4j.vfio.platform.Trigger;

/**
 * The x86 side of a platform device's guest description: the ACPI device written from it passes ACPICA's
 * disassembler without a complaint, and vfio4j's own _CRS reader (the one that correlates host devices) reads back
 * the regions and interrupts that went in.
 */
class PlatformDeviceAmlTest {
    @TempDir
    Path tmp;

    @Test
    void theGuestDescriptionAsAnAcpiDeviceReadsBack() throws Exception {
        PlatformGuestDescription d = new PlatformGuestDescription("LNRO0005:02", "ACPI \\_SB_.VR21 (LNRO0005)",
                List.of("LNRO0005"), List.of(new GuestRegion(0, 0xd000_0000L, 0x200, false, false),
                        new GuestRegion(1, 0xd000_1000L, 0x1000, true, true)),
                List.of(new GuestIrq(0, 20, Trigger.LEVEL), new GuestIrq(1, 21, Trigger.EDGE)), Map.of());
        byte[] dsdt = AcpiTable.of("DSDT", Dsdt.REVISION, Aml.scope("\\_SB_",
                PlatformDeviceAml.device("VR00", "LNRO0005", 0, d)));

        Iasl.Disassembly dis = Iasl.disassemble(tmp, "dsdt", dsdt);
        assertTrue(dis.dsl().contains("Memory32Fixed (ReadWrite,") && dis.dsl().contains("Memory32Fixed (ReadOnly,")
                && dis.dsl().contains("Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, )"), dis.dsl());

        FirmwareDevice back = AcpiResources.parse(dsdt).describe("\\_SB_.VR00");
        assertEquals(List.of("LNRO0005"), back.compatible());
        assertEquals(List.of(new FirmwareRegion(0, 0xd000_0000L, 0x200, false, false),
                new FirmwareRegion(1, 0xd000_1000L, 0x1000, false, true)), back.regions());
        assertEquals(List.of(20L, 21L), back.irqs().stream().map(i -> i.number()).toList());
        assertEquals(List.of(Trigger.LEVEL, Trigger.EDGE), back.irqs().stream().map(i -> i.trigger()).toList());
    }
}
