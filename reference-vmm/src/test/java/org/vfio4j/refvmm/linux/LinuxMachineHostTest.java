package org.vfio4j.refvmm.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.refvmm.linux.boot.LinuxBootException;

/**
 * The Linux VMM on this host's /dev/kvm, which cannot run long mode: what can be checked without booting. Bad input
 * is refused before any VM exists; a machine built and closed leaves no file descriptor behind; the guest memory
 * holds what the loader and the ACPI builder put there.
 */
class LinuxMachineHostTest {
    @TempDir
    Path tmp;

    private LinuxVmConfig.Builder config() {
        return LinuxVmConfig.builder(L2Guest.kernel()).initrd(L2Guest.initrd()).ramMiB(128);
    }

    @Test
    void badInputIsRefusedBeforeAnyVmExists() throws IOException {
        Path notKernel = Files.writeString(tmp.resolve("notes.txt"), "not a kernel");
        var e1 = assertThrows(LinuxBootException.class,
                () -> LinuxMachine.create(LinuxVmConfig.builder(notKernel).build()));
        assertTrue(e1.getMessage().contains("notes.txt"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> LinuxMachine.create(config().initrd(tmp.resolve("missing.cpio")).build()));
        assertTrue(e2.getMessage().contains("missing.cpio"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> config().ramMiB(16).build());
        assertTrue(e3.getMessage().contains("at least 32 MiB"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class,
                () -> LinuxMachine.create(config().device("0000:7f:1f.7").build()));
        assertTrue(e4.getMessage().contains("0000:7f:1f.7") && e4.getMessage().contains("not vfio-pci"),
                e4.getMessage());
    }

    @Test
    void ramTooSmallForTheKernelIsRefusedAndNothingIsLeft() throws IOException {
        assumeTrue(Kvm.available(), "/dev/kvm");
        long before = openFds();
        // The testbed kernel's init_size is about 64 MiB from its 16 MiB load address.
        var e = assertThrows(LinuxBootException.class, () -> LinuxMachine.create(config().ramMiB(48).build()));
        assertTrue(e.getMessage().toLowerCase().contains("ram"), e.getMessage());
        assertEquals(before, openFds(), "file descriptors after a refused machine");
    }

    @Test
    void buildingAndClosingMachinesLeavesNoFileDescriptors() throws IOException {
        assumeTrue(Kvm.available(), "/dev/kvm");
        try (LinuxMachine warmUp = LinuxMachine.create(config().build())) {
            // the first machine loads native code and starts shared threads
            BootReport boot = warmUp.bootReport();
            byte[] rsdp = warmUp.vmm().guestMemory().read(boot.acpi().rsdpAddress(), 8);
            assertEquals("RSD PTR ", new String(rsdp, java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals(boot.setup().entryRip(), boot.setup().kernelAddress() + 0x200);
        }
        long before = openFds();
        for (int i = 0; i < 3; i++) {
            try (LinuxMachine m = LinuxMachine.create(config().vcpus(2).build())) {
                assertEquals(1, m.bootReport().pci().size(), "the host bridge only");
            }
        }
        assertEquals(before, openFds(), "file descriptors after three machines");
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
