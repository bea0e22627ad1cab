package org.vfio4j.refvmm.linux.boot;

import java.util.List;
import java.util.Objects;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.core.memory.ReservedRange;

/**
 * What to boot and into what guest: the input of {@link LinuxLoader#load}.
 *
 * @param kernel the checked bzImage
 * @param initrd the initrd's bytes; empty for none
 * @param commandLine the kernel command line (written as UTF-8 with a terminating NUL)
 * @param ram the guest's RAM regions (from 0, and from 4 GiB when RAM does not fit below the ECAM); only their
 *     guest addresses and sizes are used
 * @param reserved ranges the VMM reports as other than RAM (ECAM, device reservations such as an IGD OpRegion as
 *     ACPI NVS); the loader adds 0x9FC00-0x100000 itself
 * @param acpiRsdpAddress where the ACPI RSDP is (goes into {@code acpi_rsdp_addr}); 0 when there is none
 */
public record LinuxBootRequest(BzImage kernel, byte[] initrd, String commandLine, List<RamRegion> ram,
        List<ReservedRange> reserved, long acpiRsdpAddress) {

    /** Checks for nulls and copies the lists. */
    public LinuxBootRequest {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd (use an empty array for none)");
        Objects.requireNonNull(commandLine, "commandLine");
        ram = List.copyOf(ram);
        reserved = List.copyOf(reserved);
    }
}
