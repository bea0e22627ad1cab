package org.vfio4j.vfio.testbed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * QEMU itself, run inside the testbed guest with {@code -accel kvm} and the edu device passed through with vfio-pci,
 * is the reference VMM later comparisons use. This proves it works: a 64 KiB firmware reads the passed-through
 * device's vendor and device id with a PCI configuration cycle (CF8/CFC) and writes the four bytes to
 * {@code isa-debugcon}, and they must match what the guest kernel's sysfs says about the real device.
 */
@Tag("testbed")
@Tag("testbed-nested-qemu")
class ReferenceVmmTestbedTest {
    /** Where the firmware expects the device: bus 0, slot 3, function 0 (CF8 value 0x80001800). */
    private static final String DEVICE_ADDRESS = "03.0";
    /** The firmware leaves through isa-debug-exit with 0, which QEMU turns into exit status (0 << 1) | 1. */
    private static final int FIRMWARE_DONE = 1;
    /** A hang guard, not a timing assertion: QEMU needs a few seconds here. */
    private static final long QEMU_LIMIT_SECONDS = 300;

    /**
     * 16-bit real-mode firmware (assembled with nasm, kept as bytes so the build needs no assembler):
     * <pre>
     *   mov eax, 0x80001800 ; mov dx, 0xcf8 ; out dx, eax     ; config address: 00:03.0, register 0
     *   mov dx, 0xcfc ; in eax, dx                          ; vendor | device &lt;&lt; 16
     *   mov dx, 0xe9 ; mov cx, 4
     *   .next: out dx, al ; shr eax, 8 ; loop .next         ; four bytes, little-endian, to debugcon
     *   mov al, 0 ; out 0xf4, al ; hlt ; jmp $-1             ; isa-debug-exit
     *   ; at 0xfff0, the reset vector: jmp start
     * </pre>
     */
    private static final byte[] CODE = bytes(
            0x66, 0xb8, 0x00, 0x18, 0x00, 0x80, 0xba, 0xf8, 0x0c, 0x66, 0xef, 0xba, 0xfc, 0x0c, 0x66, 0xed,
            0xba, 0xe9, 0x00, 0xb9, 0x04, 0x00, 0xee, 0x66, 0xc1, 0xe8, 0x08, 0xe2, 0xf9, 0xb0, 0x00, 0xe6,
            0xf4, 0xf4, 0xeb, 0xfd);
    private static final byte[] RESET_VECTOR = bytes(0xe9, 0x0d, 0x00);

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static byte[] firmware() {
        byte[] image = new byte[0x10000];
        Arrays.fill(image, (byte) 0xf4); // hlt everywhere else
        System.arraycopy(CODE, 0, image, 0, CODE.length);
        System.arraycopy(RESET_VECTOR, 0, image, 0xfff0, RESET_VECTOR.length);
        return image;
    }

    private static int sysfsId(String bdf, String attribute) throws IOException {
        return Integer.decode(Files.readString(TestbedDevices.sysfs(bdf).resolve(attribute)).trim());
    }

    @Test
    void qemuWithKvmReadsTheIdOfThePassedThroughEdu(@TempDir Path dir) throws Exception {
        String edu = TestbedDevices.bdf("edu");
        Path bios = Files.write(dir.resolve("bios.bin"), firmware());
        Path debugcon = dir.resolve("debugcon.bin");
        Path log = dir.resolve("qemu.log");
        List<String> command = List.of("qemu-system-x86_64", "-accel", "kvm", "-machine", "q35", "-m", "64M",
                "-display", "none", "-no-reboot", "-nodefaults", "-bios", bios.toString(),
                "-device", "vfio-pci,host=" + edu + ",addr=" + DEVICE_ADDRESS,
                "-chardev", "file,id=dbg,path=" + debugcon,
                "-device", "isa-debugcon,iobase=0xe9,chardev=dbg",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=1");
        Process qemu = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!qemu.waitFor(QEMU_LIMIT_SECONDS, TimeUnit.SECONDS)) {
            qemu.destroyForcibly().waitFor();
            fail("QEMU did not finish within " + QEMU_LIMIT_SECONDS + " s: " + Files.readString(log));
        }
        String output = Files.readString(log);
        assertEquals(FIRMWARE_DONE, qemu.exitValue(), "QEMU exit status; its output:\n" + output);
        int vendor = sysfsId(edu, "vendor");
        int device = sysfsId(edu, "device");
        byte[] expected = bytes(vendor & 0xff, vendor >>> 8, device & 0xff, device >>> 8);
        assertArrayEquals(expected, Files.readAllBytes(debugcon),
                String.format("debugcon should carry %04x:%04x; QEMU said:%n%s", vendor, device, output));
    }
}
