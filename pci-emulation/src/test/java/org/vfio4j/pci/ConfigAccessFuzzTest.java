package org.vfio4j.pci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.bus.ConfigMechanism1;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.ConfigAccess;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * Fuzzes guest configuration accesses through CF8/CFC, ECAM and the MSI-X table/PBA of a fully featured function.
 * In the normal build Jazzer replays the stored inputs in {@code ConfigAccessFuzzTestInputs/} (regression mode);
 * {@code JAZZER_FUZZ=1 mvn -pl pci-emulation test -Dtest=ConfigAccessFuzzTest} fuzzes.
 *
 * <p>Checked after every access: nothing threw; no read returned bits beyond its size; the identity registers and
 * every read-only, non-RW1C bit of the standard header are what they were.
 */
class ConfigAccessFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void configAccessesNeverThrowAndKeepReadOnlyBits(FuzzedDataProvider data) {
        PciHostBridge host = new PciHostBridge();
        TestFunction fn = new TestFunction();
        TestFunction fn2 = new TestFunction("fn2");
        host.rootBus().attach(3, 0, fn.config);
        host.rootBus().attach(3, 1, fn2.config);
        TrapHandler cf8 = host.mechanism1();
        EcamHandler ecam = new EcamHandler(host, 4);
        TrapHandler table = fn.msix.tableHandler();
        TrapHandler pba = fn.msix.pbaHandler();
        ConfigSpace cs = fn.config;
        byte[] before = cs.snapshot();
        int steps = data.consumeInt(1, 200);
        for (int i = 0; i < steps && data.remainingBytes() > 0; i++) {
            int kind = data.consumeInt(0, 7);
            int size = data.pickValue(new int[] {1, 2, 3, 4, 8, 0});
            long value = data.consumeLong();
            long r = 0;
            boolean read = false;
            switch (kind) {
                case 0 -> {
                    cf8.write(0, 4, 0x8000_0000L | (0 << 16) | (3 << 11) | (data.consumeInt(0, 1) << 8)
                            | data.consumeInt(0, 0xFF));
                }
                case 1 -> cf8.write(data.consumeInt(0, 7), size, value);
                case 2 -> {
                    r = cf8.read(data.consumeInt(0, 9), size);
                    read = true;
                }
                case 3 -> ecam.write(data.consumeLong(0, ecam.length() + 16), size, value);
                case 4 -> {
                    r = ecam.read((3L << 15) | data.consumeInt(-4, 0x1003), size);
                    read = true;
                }
                case 5 -> ecam.write((3L << 15) | data.consumeInt(-4, 0x1003), size, value);
                case 6 -> table.write(data.consumeInt(-8, 0x90), size, value);
                case 7 -> {
                    r = data.consumeBoolean() ? table.read(data.consumeInt(-8, 0x90), size)
                            : pba.read(data.consumeInt(-8, 16), size);
                    pba.write(data.consumeInt(-8, 16), size, value);
                    fn.msix.trigger(data.consumeInt(-1, 9));
                    fn.msi.trigger(data.consumeInt(-1, 5));
                    read = true;
                }
                default -> throw new AssertionError(kind);
            }
            if (read && size >= 1 && size <= 4) {
                assertEquals(0, r & ~ConfigAccess.allOnes(size), "read of " + size + " bytes returned extra bits");
            }
        }
        byte[] after = cs.snapshot();
        for (int d = 0; d < 16; d++) {
            long ro = RandomAccessTest.HEADER_READ_ONLY[d]; // written from the spec, not taken from the masks
            assertEquals(dword(before, d * 4) & ro, dword(after, d * 4) & ro,
                    "read-only bits of header dword 0x" + Integer.toHexString(d * 4));
        }
        assertEquals(0, dword(after, 4) >>> 16 & ~(dword(before, 4) >>> 16), "a guest write set a status bit");
        assertEquals(0x1af4, cs.getWord(0));
    }

    private static long dword(byte[] b, int off) {
        return (b[off] & 0xFFL) | (b[off + 1] & 0xFFL) << 8 | (b[off + 2] & 0xFFL) << 16 | (b[off + 3] & 0xFFL) << 24;
    }
}
