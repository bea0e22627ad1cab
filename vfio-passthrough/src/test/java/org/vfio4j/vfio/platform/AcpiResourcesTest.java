package org.vfio4j.vfio.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The _CRS reader on tables compiled by iasl (ACPICA, the compiler firmware vendors use): a virtio-mmio transport as
 * QEMU's microvm describes it, a device with mixed descriptors (their order is the region and IRQ order), and a
 * _CRS that is a method, which the reader says it can't evaluate.
 */
class AcpiResourcesTest {
    @TempDir
    Path tmp;

    private static final String DSDT = """
            DefinitionBlock ("", "DSDT", 2, "VFIO4J", "TEST", 1)
            {
                Scope (\\_SB)
                {
                    Device (VR21)
                    {
                        Name (_HID, "LNRO0005")
                        Name (_UID, 21)
                        Name (_CCA, One)
                        Name (_CRS, ResourceTemplate ()
                        {
                            Memory32Fixed (ReadWrite, 0xFEB02A00, 0x00000200)
                            Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { 45 }
                        })
                    }
                    Device (MIX0)
                    {
                        Name (_HID, EisaId ("PNP0C02"))
                        OperationRegion (REGS, SystemMemory, 0xFED00000, 0x100)
                        Field (REGS, DWordAcc, NoLock, Preserve) { STAT, 32 }
                        Name (_CRS, ResourceTemplate ()
                        {
                            IO (Decode16, 0x0600, 0x0600, 0x01, 0x10)
                            Interrupt (ResourceConsumer, Edge, ActiveLow, Exclusive) { 50, 51 }
                            QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadOnly,
                                0, 0x100000000, 0x100003FFF, 0, 0x4000)
                            IRQNoFlags () { 7 }
                        })
                        Method (_STA, 0) { Return (0x0F) }
                    }
                    Device (DYN0)
                    {
                        Name (_HID, "VFIO0001")
                        Method (_CRS, 0) { Return (ResourceTemplate () { Memory32Fixed (ReadWrite, 0x1000, 0x1000) }) }
                    }
                }
            }
            """;

    @Test
    void microvmsVirtioTransport() throws Exception {
        AcpiResources acpi = AcpiResources.parse(Tools.iasl(tmp, "dsdt", DSDT));
        FirmwareDevice d = acpi.describe("\\_SB_.VR21");
        assertEquals("ACPI \\_SB_.VR21 (LNRO0005)", d.source());
        assertEquals(List.of("LNRO0005"), d.compatible());
        assertEquals(List.of(new FirmwareRegion(0, 0xfeb0_2a00L, 0x200, false, false)), d.regions());
        assertEquals(1, d.irqs().size());
        assertEquals(45, d.irqs().get(0).number());
        assertEquals(Trigger.LEVEL, d.irqs().get(0).trigger());
        assertEquals(d.toString(), acpi.describe("\\_SB.VR21").toString(), "sysfs pads name segments with _");
    }

    @Test
    void descriptorsKeepTheirOrderOneResourcePerInterrupt() throws Exception {
        FirmwareDevice d = AcpiResources.parse(Tools.iasl(tmp, "dsdt", DSDT)).describe("\\_SB_.MIX0");
        assertEquals(List.of("PNP0C02"), d.compatible());
        assertEquals(List.of(new FirmwareRegion(0, 0x600, 0x10, true, false),
                new FirmwareRegion(1, 0x1_0000_0000L, 0x4000, false, true)), d.regions());
        assertEquals(List.of(50L, 51L, 7L), d.irqs().stream().map(FirmwareIrq::number).toList());
        assertEquals(List.of(Trigger.EDGE, Trigger.EDGE, Trigger.EDGE),
                d.irqs().stream().map(FirmwareIrq::trigger).toList());
    }

    @Test
    void aCrsMethodIsNotEvaluated() throws Exception {
        AcpiResources acpi = AcpiResources.parse(Tools.iasl(tmp, "dsdt", DSDT));
        DeviceTreeException e = assertThrows(DeviceTreeException.class, () -> acpi.describe("\\_SB_.DYN0"));
        assertTrue(e.getMessage().contains("method"), e.getMessage());
        DeviceTreeException none = assertThrows(DeviceTreeException.class, () -> acpi.describe("\\_SB_.NONE"));
        assertTrue(none.getMessage().contains("\\_SB_.NONE"), none.getMessage());
    }

    @Test
    void aTruncatedTemplateIsRefused() {
        // Memory32Fixed claims 9 bytes of body; only 4 follow.
        byte[] t = {(byte) 0x86, 9, 0, 1, 0, 0, 0};
        DeviceTreeException e = assertThrows(DeviceTreeException.class,
                () -> AcpiResources.decode("\\_SB_.X", t, new java.util.ArrayList<>(), new java.util.ArrayList<>()));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
}
