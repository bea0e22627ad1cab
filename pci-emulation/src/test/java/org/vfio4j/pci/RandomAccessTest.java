package org.vfio4j.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.ConfigAccess;

/**
 * Random guest access sequences (seeded, reproducible) against a fully featured function through ECAM, CF8/CFC and
 * the MSI-X table: no access throws, reads carry no bits beyond their size, and every bit the spec makes read-only
 * keeps its value. The read-only masks are written out here from the spec for the header, independently of the
 * implementation's own masks; RW1C status bits may only go from one to zero.
 */
class RandomAccessTest {
    private static final int DEV = 3;

    static LongStream seeds() {
        return LongStream.range(0, 24).map(i -> 0x5eed_0000L + i * 7919);
    }

    /** Read-only bits of the TestFunction's header dwords 0x00..0x3C, from PCI 3.0 ch. 6 and its BAR sizes. */
    static final long[] HEADER_READ_ONLY = {
        0xFFFF_FFFFL,                       // 0x00 vendor, device
        0xFFFF_0000L | (0xFFFF & ~0x0547),  // 0x04 status (non-RW1C checked separately), command
        0xFFFF_FFFFL,                       // 0x08 revision, class
        0xFFFF_FF00L,                       // 0x0C BIST, header type, latency timer (PCIe: 0); cache line RW
        0x0000_001FL,                       // 0x10 BAR0: I/O, 32 bytes
        0x0000_0FFFL,                       // 0x14 BAR1: 32-bit, 4 KiB
        0x000F_FFFFL,                       // 0x18 BAR2: 64-bit prefetchable, 1 MiB
        0x0000_0000L,                       // 0x1C BAR2 upper half
        0x0000_3FFFL,                       // 0x20 BAR4: 64-bit, 16 KiB
        0x0000_0000L,                       // 0x24 BAR4 upper half
        0xFFFF_FFFFL,                       // 0x28 CardBus CIS
        0xFFFF_FFFFL,                       // 0x2C subsystem ids
        0x0000_FFFEL,                       // 0x30 ROM: 64 KiB, enable bit RW
        0xFFFF_FFFFL,                       // 0x34 capabilities pointer, reserved
        0xFFFF_FFFFL,                       // 0x38 reserved
        0xFFFF_FF00L,                       // 0x3C max lat, min gnt, pin; line RW
    };

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomAccessesNeverThrowAndKeepReadOnlyBits(long seed) {
        Random rnd = new Random(seed);
        PciHostBridge host = new PciHostBridge();
        TestFunction fn = new TestFunction();
        host.rootBus().attach(DEV, 0, fn.config);
        EcamHandler ecam = new EcamHandler(host, 1);
        TrapHandler cf8 = host.mechanism1();
        TrapHandler table = fn.msix.tableHandler();
        long[] header = readHeader(fn.config);
        List<Integer> capHeaders = capabilityHeaderOffsets(fn);
        long[] caps = capHeaders.stream().mapToLong(o -> fn.config.read(o, o >= 0x100 ? 4 : 2)).toArray();
        long msixOffsets = fn.config.read(msixCap(fn) + PCI_MSIX_TABLE, 4) << 32
                | fn.config.read(msixCap(fn) + PCI_MSIX_PBA, 4);
        int[] sizes = {1, 2, 4, 1, 2, 4, 3, 8, 0};
        for (int i = 0; i < 3000; i++) {
            int size = sizes[rnd.nextInt(sizes.length)];
            int reg = rnd.nextInt(4) == 0 ? rnd.nextInt(0x1000) : rnd.nextInt(0x100);
            long value = rnd.nextInt(3) == 0 ? -1L : rnd.nextLong();
            long r;
            switch (rnd.nextInt(6)) {
                case 0, 1 -> ecam.write((long) DEV << 15 | reg, size, value);
                case 2 -> {
                    cf8.write(0, 4, 0x8000_0000L | DEV << 11 | (reg & 0xFC));
                    cf8.write(4 + (reg & 3), size, value);
                }
                case 3 -> table.write(rnd.nextInt(0x90), size, value);
                case 4 -> {
                    fn.msix.trigger(rnd.nextInt(10) - 1);
                    fn.msi.trigger(rnd.nextInt(6) - 1);
                }
                default -> {
                    r = ecam.read((long) DEV << 15 | reg, size);
                    if (size >= 1 && size <= 4) {
                        assertEquals(0, r & ~ConfigAccess.allOnes(size), "read returned bits beyond its size");
                    }
                }
            }
            if (i % 100 == 99) {
                checkReadOnly(fn, header, capHeaders, caps, msixOffsets, seed, i);
            }
        }
        checkReadOnly(fn, header, capHeaders, caps, msixOffsets, seed, -1);
    }

    private static void checkReadOnly(TestFunction fn, long[] header, List<Integer> capHeaders, long[] caps,
                                      long msixOffsets, long seed, int step) {
        long[] now = readHeader(fn.config);
        String where = "seed " + seed + " step " + step;
        for (int d = 0; d < 16; d++) {
            assertEquals(header[d] & HEADER_READ_ONLY[d], now[d] & HEADER_READ_ONLY[d],
                    where + ": read-only bits of header dword 0x" + Integer.toHexString(d * 4));
        }
        long statusBefore = header[1] >>> 16;
        long statusNow = now[1] >>> 16;
        assertEquals(statusBefore & ~STATUS_RW1C_BITS & 0xFFFF, statusNow & ~STATUS_RW1C_BITS & 0xFFFF,
                where + ": read-only status bits");
        assertEquals(0, statusNow & ~statusBefore & STATUS_RW1C_BITS, where + ": a guest write set an RW1C bit");
        for (int k = 0; k < caps.length; k++) {
            int o = capHeaders.get(k);
            assertEquals(caps[k], fn.config.read(o, o >= 0x100 ? 4 : 2), where + ": capability header at 0x"
                    + Integer.toHexString(o));
        }
        int m = msixCap(fn);
        assertEquals(msixOffsets, fn.config.read(m + PCI_MSIX_TABLE, 4) << 32 | fn.config.read(m + PCI_MSIX_PBA, 4),
                where + ": MSI-X table/PBA offset registers");
        assertEquals(7, fn.config.read(m + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, where + ": MSI-X table size");
    }

    private static long[] readHeader(ConfigAccess cs) {
        long[] h = new long[16];
        for (int d = 0; d < 16; d++) {
            h[d] = cs.read(d * 4, 4);
        }
        return h;
    }

    private static int msixCap(TestFunction fn) {
        return fn.caps.find(PCI_CAP_ID_MSIX).orElseThrow().offset();
    }

    private static List<Integer> capabilityHeaderOffsets(TestFunction fn) {
        List<Integer> out = new ArrayList<>();
        fn.caps.standard().forEach(e -> out.add(e.offset()));
        fn.caps.extended().forEach(e -> out.add(e.offset()));
        return out;
    }
}
