package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.refvmm.flat.QemuGuestRunner;

/**
 * The passthrough guest programs against QEMU's own device models (edu, nvme, e1000e), run by QEMU with TCG on the
 * build host exactly as the benchmark runs them ({@code -bios}): proves the programs drive the real device models
 * correctly, independently of vfio4j, so a testbed failure points at the VMM rather than at the program.
 */
class GuestProgramsUnderQemuTest {
    private static final Duration LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path tmp;

    @BeforeEach
    void needQemuAndBinutils() {
        assumeTrue(GuestCode.available(), "binutils (as/ld/objcopy) not available");
        assumeTrue(QemuGuestRunner.available(), QemuGuestRunner.QEMU + " not available");
    }

    @Test
    void eduProgramReadsIdComputesDmasAndTakesMsi() throws Exception {
        GuestMachine.GuestRun run = QemuGuestRunner.run(GuestImage.build("edu"), "tcg", 64, List.of("-device",
                "edu"), LIMIT);
        assertTrue(run.succeeded(), run.toString());
        assertEquals(0x010000ed, run.value("edu.id"));
        assertEquals(0xedcba987L, run.value("edu.live"));
        assertEquals(3628800, run.value("edu.fact"));
        assertEquals(0, run.value("dma.mismatches"), run.toString());
        assertEquals(toInt(EduPassthroughTest.pattern(2), 4), run.value("dma.dst1"), "the pattern went round");
        assertEquals(1, run.value("irq.count"));
        assertEquals(0xbeef, run.value("irq.status"));
        assertEquals(2, run.value("irq.count2"));
        assertEquals(120, run.value("edu.fact5"));
        assertEquals(0x010000ed, run.value("moved.id"), "BAR0 moved");
        assertTrue(run.value("decode.off.read") != 0x010000ed, "decode off hides the BAR");
    }

    @Test
    void nvmeProgramTakesTheAdminCompletionOnMsix() throws Exception {
        Path disk = tmp.resolve("nvme.img");
        Files.write(disk, new byte[1 << 20]);
        GuestMachine.GuestRun run = QemuGuestRunner.run(GuestImage.build("nvme"), "tcg", 64, List.of(
                "-drive", "file=" + disk + ",if=none,id=nvme0,format=raw",
                "-device", "nvme,serial=vfio4j,drive=nvme0"), LIMIT);
        assertTrue(run.succeeded(), run.toString());
        assertEquals(0x41, run.value("msix.entry0.data"));
        assertEquals(1, run.value("nvme.csts") & 1);
        assertEquals(1, run.value("irq.count"), run.toString());
        assertEquals(0x00010042, run.value("nvme.cqe.dw3"), "our command id, phase 1, success");
        assertEquals(1, run.value("masked.pba") & 1, "pending while masked");
        assertEquals(1, run.value("masked.irq.count"));
        assertEquals(2, run.value("unmasked.irq.count"), "delivered on unmask");
    }

    @Test
    void e1000eProgramSeesTheSameRegistersThroughIoAndMmioAndReadsTheRom() throws Exception {
        GuestMachine.GuestRun run = QemuGuestRunner.run(GuestImage.build("e1000e"), "tcg", 64, List.of(
                "-netdev", "user,id=n0", "-device", "e1000e,netdev=n0"), LIMIT);
        assertTrue(run.succeeded(), run.toString());
        assertEquals(8, run.value("io.ioaddr"));
        assertEquals(run.value("mmio.status"), run.value("io.status"));
        assertEquals(run.value("mmio.ral0"), run.value("io.ral0"));
        assertEquals(0x12005452L, run.value("io.ral0"), "QEMU's default MAC 52:54:00:12:34:56");
        assertEquals(0xaa55, run.value("rom.sig"));
        assertEquals(1, run.value("msix.v50.count2"), "MSI-X vector 0 once");
        assertEquals(1, run.value("msix.v51.count2"), "MSI-X vector 1 once");
    }

    @Test
    void theSameBytesAsTheHarnessRuns() {
        // QEMU and GuestMachine get identical images: the build is deterministic.
        assertArrayEquals(GuestImage.build("edu"), GuestImage.build("edu"));
    }

    private static long toInt(byte[] b, int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
    }
}
