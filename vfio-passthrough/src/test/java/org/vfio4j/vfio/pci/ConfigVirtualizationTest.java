package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigView;

/** The guest's view of the passed-through function's config space, through the guest PCI bus. */
class ConfigVirtualizationTest {
    @TempDir
    Path tmp;
    PassthroughRig rig;
    VfioPciDevice dev;

    @BeforeEach
    void attach() {
        rig = new PassthroughRig(tmp);
        dev = rig.attach();
    }

    @AfterEach
    void detach() {
        if (dev != null) {
            dev.detach();
        }
        rig.close();
    }

    private int phys16(int off) {
        return rig.config.buffer().getShort(off) & 0xFFFF;
    }

    private int phys32(int off) {
        return rig.config.buffer().getInt(off);
    }

    @Test
    void identityComesFromTheDeviceOnceUntilAReset() {
        assertEquals(0x10d38086L, rig.cfgRead(0, 4));
        rig.config.buffer().putShort(0x2E, (short) 0x4242);
        assertEquals(0x4242, rig.cfgRead(0x2E, 2), "the subsystem id comes from the device");
        rig.config.buffer().putShort(0x2E, (short) 0x4343);
        rig.config.buffer().putShort(0x00, (short) 0x1111);
        assertEquals(0x4242, rig.cfgRead(0x2E, 2), "ids cannot change while the function runs: answered from memory");
        assertEquals(0x10d38086L, rig.cfgRead(0, 4));
        dev.reset();
        assertEquals(0x4343, rig.cfgRead(0x2E, 2), "a reset makes the next read ask the device again");
        assertEquals(0x10d31111L, rig.cfgRead(0, 4));
    }

    @Test
    void registersTheDeviceCanChangeAreReadEveryTime() {
        int status = phys16(0x06);
        rig.cfgRead(0x06, 2);
        rig.config.buffer().putShort(0x06, (short) (status ^ 0x0100));
        assertEquals((status ^ 0x0100) & 0xFFEF, rig.cfgRead(0x06, 2) & 0xFFEF, "status comes from the device");
    }

    @Test
    void barsAreEmulatedSizedAndNeverReachTheDevice() {
        assertEquals(0x4L, rig.cfgRead(0x10, 4), "BAR0 starts unassigned with its 64-bit flag");
        rig.cfgWrite(0x10, 4, 0xFFFFFFFFL);
        rig.cfgWrite(0x14, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFF0004L, rig.cfgRead(0x10, 4), "64 KiB sizing answer");
        assertEquals(0xFFFFFFFFL, rig.cfgRead(0x14, 4));
        assertEquals(0xfebc0004, phys32(0x10), "the device's BAR register is untouched");
        rig.cfgWrite(0x18, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFFFE1L, rig.cfgRead(0x18, 4), "32-byte I/O BAR sizing");
        rig.cfgWrite(0x20, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFFF00L, rig.cfgRead(0x20, 4), "256-byte BAR4 sizing");
        rig.cfgWrite(0x30, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFF0001L, rig.cfgRead(0x30, 4), "64 KiB ROM sizing with the enable bit");
        assertEquals(0xfec00000, phys32(0x30));
        ConfigView cs = dev.config();
        assertEquals(0xFFFFFFFFL, cs.emulatedMask(0x10, 4));
        assertEquals(0xFFFFFFFFL, cs.emulatedMask(0x30, 4));
        assertEquals(0L, cs.emulatedMask(0x00, 4), "identity is not emulated");
    }

    @Test
    void theDeviceHandsOutAReadOnlyViewOfItsConfigSpace() {
        ConfigView view = dev.config();
        assertFalse(view instanceof ConfigAccess, "no guest write path around the device's effects");
        rig.cfgWrite(0x3C, 1, 7);
        assertEquals(7, view.getByte(0x3C), "the view follows the live space");
        assertEquals(7, view.read(0x3C, 1));
        assertEquals(0xFFL, view.writableMask(0x3C, 1));
    }

    @Test
    void commandDecodeBitsReachTheDeviceAndAreMirrored() {
        assertEquals(0, phys16(0x04) & 0x7, "attach leaves decode and bus mastering off");
        assertEquals(0, rig.cfgRead(0x04, 2) & 0x7);
        rig.cfgWrite(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR);
        assertEquals(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR, phys16(0x04));
        assertEquals(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, dev.config().getWord(0x04) & 0x7,
                "the VMM's image mirrors the decode bits");
        assertEquals(0L, dev.config().emulatedMask(0x04, 2), "every command bit reads from the device");
    }

    @Test
    void headerTypeMultiFunctionBitIsTheVmmsAndInterruptLineIsEmulated() {
        assertEquals(0, rig.cfgRead(0x0E, 1), "the host's multi-function bit is hidden");
        assertEquals(1, rig.cfgRead(0x3D, 1), "pin A");
        long line = rig.cfgRead(0x3C, 1);
        assertEquals(16 + (4 + 1 - 1) % 4, line, "line starts at the swizzled GSI");
        rig.cfgWrite(0x3C, 1, 5);
        assertEquals(5, rig.cfgRead(0x3C, 1));
        assertEquals(11, rig.config.contents()[0x3C], "the device's line register is untouched");
        rig.cfgWrite(0x3D, 1, 3);
        assertEquals(1, rig.cfgRead(0x3D, 1), "pin is read-only");
    }

    @Test
    void msiAndMsixCapabilitiesAreEmulatedInPlace() {
        int msi = PassthroughRig.MSI_CAP;
        assertEquals(0x05, rig.cfgRead(msi, 1));
        assertEquals(PassthroughRig.MSIX_CAP, rig.cfgRead(msi + 1, 1), "chain order kept");
        assertEquals(0x0184L, rig.cfgRead(msi + 2, 2), "4 vectors, 64-bit, maskable");
        rig.cfgWrite(msi + 4, 4, 0xfee01000L);
        assertEquals(0xfee01000L, rig.cfgRead(msi + 4, 4));
        assertEquals(0, phys32(msi + 4), "MSI address never reaches the device");
        int msix = PassthroughRig.MSIX_CAP;
        assertEquals(0x11, rig.cfgRead(msix, 1));
        assertEquals(7L, rig.cfgRead(msix + 2, 2), "8 vectors");
        assertEquals(0x2000L, rig.cfgRead(msix + 4, 4));
        assertEquals(0x3000L, rig.cfgRead(msix + 8, 4));
        assertEquals(0xFFFFFFFFL, dev.config().emulatedMask(msix, 4));
        rig.cfgWrite(msix + 2, 2, 0xC000);
        assertEquals(0xC007L, rig.cfgRead(msix + 2, 2));
        assertEquals(7, phys16(msix + 2), "MSI-X enable never reaches the device's config space");
    }

    @Test
    void sriovAndResizableBarAreUnlinkedFromTheExtendedChain() {
        List<Integer> ids = new ArrayList<>();
        int pos = 0x100;
        for (int ttl = 0; ttl < 100 && pos >= 0x100; ttl++) {
            long header = rig.cfgRead(pos, 4);
            ids.add((int) (header & 0xFFFF));
            pos = (int) (header >>> 20);
        }
        assertEquals(List.of(0x0001, 0x0003), ids, "AER then DSN; SR-IOV and REBAR are gone");
        assertEquals(0L, rig.cfgRead(0x140, 4));
        assertEquals(0L, rig.cfgRead(0x184, 4), "hidden capability bodies read zero");
        assertEquals(0x12345678L, rig.cfgRead(0x1c4, 4), "DSN body passes through");
    }

    @Test
    void standardChainKeepsPassthroughCapabilities() {
        assertEquals(0x40L, rig.cfgRead(0x34, 1));
        assertEquals(0x01L, rig.cfgRead(0x40, 1), "PM");
        assertEquals(0x10L, rig.cfgRead(PassthroughRig.PCIE_CAP, 1), "PCIe");
        assertEquals(0x10L, rig.cfgRead(0x06, 2) & 0x10, "capability list bit");
        rig.config.buffer().putShort(0x44, (short) 0x0003);
        assertEquals(3L, rig.cfgRead(0x44, 2), "PM control/status passes through");
    }

    @Test
    void badAccessesGetTheHardwareAnswer() {
        assertEquals(0xFFFFFFFFL, rig.cfgRead(0x3, 4), "a dword across a dword boundary");
        assertEquals(0xFFFFL, rig.cfgRead(0x1000, 2), "past the end");
        long reads = dev.counters().configReads();
        rig.cfgRead(0, 4);
        assertEquals(reads + 1, dev.counters().configReads());
    }
}
