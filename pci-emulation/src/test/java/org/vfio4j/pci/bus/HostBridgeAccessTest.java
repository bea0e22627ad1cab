package org.vfio4j.pci.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vfio4j.pci.config.PciRegisters.*;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.bus.TrapBus;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;

/**
 * Configuration mechanism #1 and ECAM, driven through vmm-core's {@link TrapBus} at the addresses a PC guest
 * uses, the way the exit loop will call them.
 */
class HostBridgeAccessTest {
    private static final long ECAM_BASE = 0xB000_0000L;
    private PciHostBridge host;
    private TrapBus pio;
    private TrapBus mmio;
    private ConfigSpace dev;

    @BeforeEach
    void setUp() {
        host = new PciHostBridge();
        dev = PciHeaders.type0("nic", ConfigSpaceSize.EXTENDED, PciIdentity.of(0x8086, 0x100e, 0x020000, 3), 1);
        dev.setWritable(0x40, 4, 0xFFFF_FFFFL);
        dev.setDword(0x100, 0x0001_0003); // a DSN-looking extended header
        host.rootBus().attach(2, 0, dev);
        pio = new TrapBus("pio");
        pio.register(ConfigMechanism1.PORT, ConfigMechanism1.LENGTH, host.mechanism1(), "pci-cf8");
        mmio = new TrapBus("mmio");
        EcamHandler ecam = new EcamHandler(host, 16);
        mmio.register(ECAM_BASE, ecam.length(), ecam, "pci-ecam");
    }

    private static long cf8(int bus, int dev, int fn, int reg) {
        return 0x8000_0000L | bus << 16 | dev << 11 | fn << 8 | reg;
    }

    @Test
    void mechanism1ReadsAndWritesThroughCfc() {
        pio.write(0xCF8, 4, cf8(0, 2, 0, 0));
        assertEquals(0x100e_8086L, pio.read(0xCFC, 4));
        assertEquals(0x8086, pio.read(0xCFC, 2));
        assertEquals(0x100e, pio.read(0xCFE, 2));
        assertEquals(0x86, pio.read(0xCFC, 1));
        assertEquals(0x80, pio.read(0xCFD, 1));
        assertEquals(0x0e, pio.read(0xCFE, 1));
        assertEquals(0x10, pio.read(0xCFF, 1));
        pio.write(0xCF8, 4, cf8(0, 2, 0, 0x40));
        pio.write(0xCFF, 1, 0xAB);
        pio.write(0xCFD, 1, 0xCD);
        assertEquals(0xAB00_CD00L, dev.read(0x40, 4), "byte writes to CFD..CFF reach the upper bytes");
        pio.write(0xCFE, 2, 0x1234);
        assertEquals(0x1234_CD00L, pio.read(0xCFC, 4));
    }

    @Test
    void theAddressRegisterTakesDwordsOnlyAndHidesReservedBits() {
        pio.write(0xCF8, 4, 0xFFFF_FFFFL);
        assertEquals(0x80FF_FFFCL, pio.read(0xCF8, 4));
        pio.write(0xCF8, 4, 0x8000_0000L);
        assertEquals(0x8000_0000L, pio.read(0xCF8, 4), "Linux's type 1 probe reads back what it wrote");
        pio.write(0xCFB, 1, 0x01); // Linux's probe pokes CFB with a byte: not a config cycle
        pio.write(0xCF8, 2, 0x1234);
        assertEquals(0x8000_0000L, pio.read(0xCF8, 4));
        assertEquals(0xFF, pio.read(0xCF9, 1));
        assertEquals(0xFFFF, pio.read(0xCF8, 2));
    }

    @Test
    void disabledOrEmptyTargetsReadAllOnes() {
        pio.write(0xCF8, 4, cf8(0, 2, 0, 0) & 0x7FFF_FFFFL);
        assertEquals(0xFFFF_FFFFL, pio.read(0xCFC, 4), "enable bit clear");
        pio.write(0xCF8, 4, cf8(0, 5, 0, 0));
        assertEquals(0xFFFF_FFFFL, pio.read(0xCFC, 4), "empty slot");
        pio.write(0xCF8, 4, cf8(7, 2, 0, 0));
        assertEquals(0xFFFF_FFFFL, pio.read(0xCFC, 4), "no such bus");
        pio.write(0xCF8, 4, cf8(0, 2, 0, 0));
        assertEquals(0xFFFF, pio.read(0xCFF, 2), "word crossing the dword");
        pio.write(0xCF8, 4, cf8(0, 0, 0, PCI_CLASS_REVISION));
        assertEquals(PciHostBridge.CLASS_HOST_BRIDGE, pio.read(0xCFC, 4) >>> 8, "host bridge at 00:00.0");
    }

    @Test
    void ecamReachesTheWholeExtendedSpace() {
        long base = ECAM_BASE + (2L << 15);
        assertEquals(0x100e_8086L, mmio.read(base, 4));
        assertEquals(0x100e, mmio.read(base + 2, 2));
        assertEquals(0x0001_0003L, mmio.read(base + 0x100, 4), "extended space only via ECAM");
        mmio.write(base + 0x41, 2, 0xBEEF);
        assertEquals(0x00BE_EF00L, dev.read(0x40, 4), "a word inside one dword");
        assertEquals(0xFFFF_FFFFL, mmio.read(base + 0x42, 4), "crossing a dword");
        assertEquals(-1L, mmio.read(base, 8), "no qword config accesses");
        assertEquals(0xFFFF_FFFFL, mmio.read(ECAM_BASE + (3L << 15), 4), "empty slot");
        assertEquals(0xFFFF_FFFFL, mmio.read(ECAM_BASE + (1L << 20) + (2L << 15), 4), "bus 1 is empty");
    }

    @Test
    void conventionalFunctionsReadAllOnesAbove256ThroughEcam() {
        ConfigSpace pci = PciHeaders.type0("old", ConfigSpaceSize.CONVENTIONAL, PciIdentity.of(0x10ec, 0x8139,
                0x020000, 0), 1);
        host.rootBus().attach(4, 0, pci);
        long base = ECAM_BASE + (4L << 15);
        assertEquals(0x8139_10ecL, mmio.read(base, 4));
        assertEquals(0xFFFF_FFFFL, mmio.read(base + 0x100, 4));
    }
}
