package org.vfio4j.refvmm.linux.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Setup-header parsing on the testbed's real bzImage and on corrupted copies of it. */
class BzImageTest {

    private static byte[] realBytes() throws Exception {
        return Files.readAllBytes(TestbedKernel.path());
    }

    @Test
    void readsTheRealDebianKernel() throws Exception {
        byte[] file = realBytes();
        BzImage k = TestbedKernel.image();
        assertTrue(k.protocolVersion() >= BzImage.MIN_PROTOCOL, k.toString());
        assertEquals(Byte.toUnsignedInt(file[0x1F1]), k.setupSects());
        assertTrue((k.xloadFlags() & BzImage.XLF_KERNEL_64) != 0);
        assertTrue((k.loadFlags() & BzImage.LOADED_HIGH) != 0);
        assertTrue(k.relocatable(), "Debian kernels are relocatable");
        assertEquals(0, k.prefAddress() % k.kernelAlignment());
        assertEquals(k.prefAddress(), k.loadAddress());
        assertTrue(k.initSize() > k.protectedModeKernel().length, "init_size covers the decompression");
        assertTrue(k.cmdlineSize() >= 255);
        assertTrue(k.initrdAddrMax() >= 0x37FF_FFFFL);
        // the header runs from 0x1F1 to the jump target, and is the file's bytes
        byte[] header = k.setupHeader();
        assertEquals(0x202 + Byte.toUnsignedInt(file[0x201]) - 0x1F1, header.length);
        assertArrayEquals(Arrays.copyOfRange(file, 0x1F1, 0x1F1 + header.length), header);
        assertEquals('H', header[0x202 - 0x1F1]);
        byte[] kernel = k.protectedModeKernel();
        int setup = (k.setupSects() + 1) * 512;
        assertEquals(file.length - setup, kernel.length);
        assertArrayEquals(Arrays.copyOfRange(file, setup, setup + 64), Arrays.copyOf(kernel, 64));
        assertTrue(k.payloadOffset() + k.payloadLength() <= kernel.length);
        assertTrue(k.toString().contains(TestbedKernel.path().toString()));
    }

    @Test
    void refusesAFileWithoutTheHdrSMagic() throws Exception {
        byte[] b = realBytes();
        b[0x202] = 'X';
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> BzImage.parse("bad.img", b));
        assertEquals("bad.img: not a bzImage (no HdrS magic at 0x202)", e.getMessage());
    }

    @Test
    void refusesABadBootFlag() throws Exception {
        byte[] b = realBytes();
        b[0x1FE] = 0;
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> BzImage.parse("flag.img", b));
        assertEquals("flag.img: not a bzImage (boot flag 0xaa00 at 0x1fe, expected 0xaa55)", e.getMessage());
    }

    @Test
    void refusesAnOldBootProtocolNamingItsVersion() throws Exception {
        byte[] b = realBytes();
        le(b).putShort(0x206, (short) 0x0205);
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> BzImage.parse("old.img", b));
        assertEquals("old.img: boot protocol 2.05 is too old (need 2.12)", e.getMessage());
        le(b).putShort(0x206, (short) 0x020B);
        e = assertThrows(LinuxBootException.class, () -> BzImage.parse("old.img", b));
        assertEquals("old.img: boot protocol 2.11 is too old (need 2.12)", e.getMessage());
    }

    @Test
    void refusesTruncatedCopies() throws Exception {
        byte[] full = realBytes();
        LinuxBootException half = assertThrows(LinuxBootException.class,
                () -> BzImage.parse("half.img", Arrays.copyOf(full, full.length / 2)));
        assertTrue(half.getMessage().startsWith("half.img: truncated: the header announces "), half.getMessage());
        assertTrue(half.getMessage().endsWith("the file has " + full.length / 2), half.getMessage());
        LinuxBootException tiny = assertThrows(LinuxBootException.class,
                () -> BzImage.parse("tiny.img", Arrays.copyOf(full, 0x100)));
        assertTrue(tiny.getMessage().startsWith("tiny.img: truncated: 256 bytes"), tiny.getMessage());
    }

    @Test
    void refusesAKernelWithoutA64BitEntry() throws Exception {
        byte[] b = realBytes();
        b[0x236] &= ~BzImage.XLF_KERNEL_64;
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> BzImage.parse("i386.img", b));
        assertEquals("i386.img: no 64-bit entry point (XLF_KERNEL_64 is clear in xloadflags): a 32-bit kernel",
                e.getMessage());
    }

    @Test
    void refusesAZImageAndACorruptHeaderLength() throws Exception {
        byte[] b = realBytes();
        b[0x211] &= ~BzImage.LOADED_HIGH;
        assertTrue(assertThrows(LinuxBootException.class, () -> BzImage.parse("z.img", b)).getMessage()
                .contains("LOADED_HIGH is clear"));
        byte[] c = realBytes();
        c[0x201] = (byte) 0xF0; // header would reach 0x2F2, into edd_mbr_sig_buffer
        assertTrue(assertThrows(LinuxBootException.class, () -> BzImage.parse("j.img", c)).getMessage()
                .contains("setup header ends at 0x2f2"));
    }

    @Test
    void readsZeroSetupSectsAsFour() throws Exception {
        byte[] real = realBytes();
        int realSetup = (Byte.toUnsignedInt(real[0x1F1]) + 1) * 512;
        // keep the boot sector and the header (which runs into sector 1), drop the rest of the setup code:
        // a 4-sector setup followed by the kernel
        byte[] b = new byte[5 * 512 + real.length - realSetup];
        System.arraycopy(real, 0, b, 0, 1024);
        System.arraycopy(real, realSetup, b, 5 * 512, real.length - realSetup);
        b[0x1F1] = 0;
        BzImage k = BzImage.parse("old-style.img", b);
        assertEquals(4, k.setupSects());
        assertArrayEquals(TestbedKernel.image().protectedModeKernel(), k.protectedModeKernel());
    }

    @Test
    void namesAMissingFile(@TempDir Path dir) {
        Path missing = dir.resolve("vmlinuz");
        LinuxBootException e = assertThrows(LinuxBootException.class, () -> BzImage.read(missing));
        assertEquals("kernel image " + missing + ": no such file", e.getMessage());
    }

    @Test
    void writesVersionsTheWayTheDocumentationDoes() {
        assertEquals("2.15", BzImage.versionString(0x020F));
        assertEquals("2.05", BzImage.versionString(0x0205));
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
