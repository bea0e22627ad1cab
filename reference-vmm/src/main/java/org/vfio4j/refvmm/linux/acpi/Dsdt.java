package org.vfio4j.refvmm.linux.acpi;

import static org.vfio4j.refvmm.linux.acpi.Aml.*;

import java.util.ArrayList;
import java.util.List;
import org.vfio4j.refvmm.linux.pci.IntxRouting;
import org.vfio4j.refvmm.linux.pci.PciWindows;

/**
 * The Differentiated System Description Table (revision 2: 64-bit integers). Its namespace:
 * <pre>
 * \_SB.PCI0   PCIe host bridge: _HID PNP0A08, _CID PNP0A03, _SEG/_BBN/_UID 0, _CRS (bus numbers, the 0xCF8
 *             config ports as consumed, I/O windows 0x0000-0x0CF7 and 0x0D00-0xFFFF, the 32- and 64-bit memory
 *             windows), _PRT (32 slots x 4 pins, static GSIs by {@link IntxRouting})
 * \_SB.MRES   PNP0C02 motherboard resources: reserves the ECAM range, so Linux accepts MCFG without a warning
 * \_SB.COM1   PNP0501 16550 at 0x3F8, IRQ 4 (optional)
 * \_S5        Package {5, 0, 0, 0}: SLP_TYP 5 for soft-off
 * </pre>
 */
public final class Dsdt {
    /** Table revision: 2 makes AML integers 64 bits wide. */
    public static final int REVISION = 2;
    /** SLP_TYP value of S5 (soft-off) that {@code \_S5} declares. */
    public static final int S5_SLP_TYP = 5;
    /** Configuration mechanism #1 ports. */
    static final int CONFIG_PORTS = 0x0CF8;

    private Dsdt() {
    }

    /** The DSDT for {@code config}. */
    public static byte[] build(AcpiConfig config) {
        List<byte[]> sb = new ArrayList<>();
        sb.add(hostBridge(config));
        sb.add(device("MRES",
                name("_HID", eisaId("PNP0C02")),
                name("_UID", integer(0)),
                name("_CRS", new ResourceTemplate()
                        .dwordMemory(config.ecamBase(), config.ecamBase() + ((long) config.ecamBuses() << 20) - 1,
                                true)
                        .toAml())));
        if (config.com1()) {
            sb.add(device("COM1",
                    name("_HID", eisaId("PNP0501")),
                    name("_UID", integer(0)),
                    name("_CRS", new ResourceTemplate().io(0x3F8, 0x3F8, 0x01, 8).irqNoFlags(4).toAml())));
        }
        byte[] aml = concat(
                scope("\\_SB", sb.toArray(byte[][]::new)),
                name("\\_S5", packageOf(integer(S5_SLP_TYP), integer(0), integer(0), integer(0))));
        return AcpiTable.of("DSDT", REVISION, aml);
    }

    private static byte[] hostBridge(AcpiConfig config) {
        PciWindows w = config.pciWindows();
        byte[] crs = new ResourceTemplate()
                .wordBusNumber(0, config.ecamBuses() - 1)
                .io(CONFIG_PORTS, CONFIG_PORTS, 0x01, 8)
                .wordIo(0x0000, CONFIG_PORTS - 1)
                .wordIo(0x0D00, 0xFFFF)
                .dwordMemory(w.mem32().base(), w.mem32().last(), false)
                .qwordMemory(w.mem64().base(), w.mem64().last())
                .toAml();
        return device("PCI0",
                name("_HID", eisaId("PNP0A08")),
                name("_CID", eisaId("PNP0A03")),
                name("_SEG", integer(0)),
                name("_BBN", integer(0)),
                name("_UID", integer(0)),
                name("_CRS", crs),
                name("_PRT", prt()));
    }

    /** Package of {address 0xSSSSFFFF, pin 0..3, source 0 (a GSI), GSI} for every slot and pin. */
    private static byte[] prt() {
        List<byte[]> entries = new ArrayList<>();
        for (int slot = 0; slot < 32; slot++) {
            for (int pin = 1; pin <= 4; pin++) {
                entries.add(packageOf(integer((long) slot << 16 | 0xFFFF), integer(pin - 1), integer(0),
                        integer(IntxRouting.gsi(slot, pin))));
            }
        }
        return packageOf(entries.toArray(byte[][]::new));
    }
}
