package org.vfio4j.refvmm.linux;

import java.util.List;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.refvmm.linux.acpi.AcpiTables;
import org.vfio4j.refvmm.linux.boot.BzImage;
import org.vfio4j.refvmm.linux.boot.LinuxBootSetup;
import org.vfio4j.refvmm.linux.pci.AssignedFunction;

/**
 * What the Linux VMM placed before the kernel ran.
 *
 * @param kernel the parsed bzImage
 * @param setup where kernel, initrd, command line and boot_params went, and the e820 map given to the guest
 * @param acpi the ACPI tables and where they are
 * @param pci what each PCI function was given: BARs, command register, interrupt line
 */
public record BootReport(BzImage kernel, LinuxBootSetup setup, AcpiTables acpi, List<AssignedFunction> pci) {
    /** Copies the list. */
    public BootReport {
        pci = List.copyOf(pci);
    }

    /** Puts vCPU 0 at the kernel's 64-bit entry. */
    void enter(KvmVcpu vcpu) {
        LinuxLayout.enter(vcpu, setup);
    }
}
