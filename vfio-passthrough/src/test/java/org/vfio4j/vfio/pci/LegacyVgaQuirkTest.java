package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_VGA_REGION_INDEX;

import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.vga.LegacyVgaQuirk;

/**
 * The legacy VGA ranges of a display function, through the fake kernel's VGA region (index 8, ranges at identity
 * offsets, as vfio-pci lays it out): forwarded while the command register decodes them, all-ones otherwise, gone at
 * detach, off without the quirk, and owned by one device only.
 */
class LegacyVgaQuirkTest {
    @TempDir
    Path tmp;

    private static PassthroughRig vgaRig(Path tmp) {
        return new PassthroughRig(tmp, r -> {
            r.config.buffer().order(ByteOrder.LITTLE_ENDIAN).putInt(0x08, 0x03000001); // class 0x030000, VGA
            r.device.region(VFIO_PCI_VGA_REGION_INDEX, LegacyVgaQuirk.REGION_SIZE, READ | WRITE);
        });
    }

    @Test
    void rangesReachTheVgaRegionWhileDecodingAndGoAtDetach() {
        try (PassthroughRig rig = vgaRig(tmp)) {
            byte[] vga = rig.region(VFIO_PCI_VGA_REGION_INDEX).contents();
            VfioPciDevice dev = rig.attach(b -> b.quirk(new LegacyVgaQuirk()));
            // Decode off after attach: nothing reaches the device.
            rig.kvm.mmioBus().write(0xB8000, 2, 0x0741);
            assertEquals(0, vga[0xB8000]);
            assertEquals(0xffff, rig.kvm.mmioBus().read(0xB8000, 2));
            assertEquals(0xff, rig.kvm.pioBus().read(0x3D4, 1));
            rig.cfgWrite(0x04, 2, 0x3); // I/O and memory space
            rig.kvm.mmioBus().write(0xB8000, 2, 0x0741); // 'A', grey on black
            assertEquals(0x41, vga[0xB8000]);
            assertEquals(0x07, vga[0xB8001]);
            assertEquals(0x0741, rig.kvm.mmioBus().read(0xB8000, 2));
            rig.kvm.pioBus().write(0x3D4, 1, 0x0e); // CRTC index: cursor location high
            assertEquals(0x0e, vga[0x3D4]);
            rig.kvm.pioBus().write(0x3B4, 1, 0x0f);
            assertEquals(0x0f, vga[0x3B4]);
            rig.cfgWrite(0x04, 2, 0x2); // memory only: the ports stop decoding
            assertEquals(0xff, rig.kvm.pioBus().read(0x3D4, 1));
            assertEquals(0x0741, rig.kvm.mmioBus().read(0xB8000, 2));
            dev.close();
            assertEquals(0xffff, rig.kvm.mmioBus().read(0xB8000, 2), "gone at detach");
            assertTrue(rig.kvm.mmioBus().registrations().stream().noneMatch(r -> r.base() == 0xA0000));
        }
    }

    @Test
    void withoutTheQuirkTheRangesAreNotClaimed() {
        try (PassthroughRig rig = vgaRig(tmp)) {
            try (VfioPciDevice dev = rig.attach()) {
                assertTrue(rig.kvm.mmioBus().registrations().stream().noneMatch(r -> r.base() == 0xA0000));
                assertTrue(rig.kvm.pioBus().registrations().stream().noneMatch(r -> r.base() == 0x3C0));
            }
        }
    }

    @Test
    void aSecondOwnerIsRefusedByName() {
        try (PassthroughRig rig = vgaRig(tmp)) {
            var other = rig.kvm.pioBus().register(0x3C0, 32, new org.vfio4j.core.bus.TrapHandler() {
                @Override
                public long read(long offset, int size) {
                    return 0;
                }

                @Override
                public void write(long offset, int size, long value) {
                }
            }, "another vga");
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> rig.attach(b -> b.quirk(new LegacyVgaQuirk())));
            assertTrue(e.getMessage().contains("only one device per VM") || String.valueOf(e.getCause())
                    .contains("only one device per VM"), e.toString());
            assertTrue(rig.kvm.mmioBus().registrations().stream().noneMatch(r -> r.base() == 0xA0000),
                    "nothing left of the refused attach");
            other.close();
        }
    }

    @Test
    void aNonDisplayFunctionIgnoresTheQuirk() {
        try (PassthroughRig rig = new PassthroughRig(tmp)) {
            try (VfioPciDevice dev = rig.attach(b -> b.quirk(new LegacyVgaQuirk()))) {
                assertTrue(rig.kvm.mmioBus().registrations().stream().noneMatch(r -> r.base() == 0xA0000));
            }
        }
    }
}
