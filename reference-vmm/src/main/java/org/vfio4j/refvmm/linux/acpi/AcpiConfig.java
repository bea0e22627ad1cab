package org.vfio4j.refvmm.linux.acpi;

import org.vfio4j.refvmm.linux.pci.PciWindows;

/**
 * What the ACPI tables describe about the machine.
 *
 * @param vcpus            number of vCPUs; vCPU i has local APIC id i and the IO-APIC gets id {@code vcpus}
 * @param ecamBase         ECAM (MMCONFIG) base address, 1 MiB per bus, naturally aligned
 * @param ecamBuses        buses decoded by ECAM (1..256), starting at bus 0
 * @param ioApicAddress    the IO-APIC's MMIO address (GSI base 0)
 * @param localApicAddress the local APICs' MMIO address
 * @param pciWindows       the BAR windows; the DSDT declares their 32- and 64-bit memory windows as the host
 *                         bridge's, and always declares I/O 0x0000-0x0CF7 and 0x0D00-0xFFFF (the I/O BAR window
 *                         must lie inside; see {@link Dsdt})
 * @param com1             declare the COM1 16550 at 0x3F8, IRQ 4 in the DSDT
 */
public record AcpiConfig(int vcpus, long ecamBase, int ecamBuses, long ioApicAddress, long localApicAddress,
                         PciWindows pciWindows, boolean com1) {
    /** ECAM base of the reference VMM. */
    public static final long STANDARD_ECAM_BASE = 0xB000_0000L;
    /** IO-APIC address of the reference VMM (KVM's in-kernel IO-APIC). */
    public static final long STANDARD_IOAPIC = 0xFEC0_0000L;
    /** Local APIC address. */
    public static final long STANDARD_LAPIC = 0xFEE0_0000L;
    /** Most vCPUs: APIC ids are 8 bits and the IO-APIC takes the id after the last vCPU's. */
    public static final int MAX_VCPUS = 254;

    /** Validates the fields. */
    public AcpiConfig {
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPUs 1.." + MAX_VCPUS + ": " + vcpus);
        }
        if (ecamBuses < 1 || ecamBuses > 256 || (ecamBase & ((1L << 20) - 1)) != 0) {
            throw new IllegalArgumentException("ECAM needs 1..256 buses at a 1 MiB aligned base");
        }
        if (pciWindows == null) {
            throw new IllegalArgumentException("no PCI windows");
        }
    }

    /** The layout of LINUX-VMM.md for {@code vcpus} vCPUs: ECAM at 0xB000_0000 for 256 buses, COM1 declared. */
    public static AcpiConfig standard(int vcpus) {
        return new AcpiConfig(vcpus, STANDARD_ECAM_BASE, 256, STANDARD_IOAPIC, STANDARD_LAPIC, PciWindows.STANDARD,
                true);
    }

    /** The IO-APIC's id: the one after the last vCPU's APIC id. */
    public int ioApicId() {
        return vcpus;
    }
}
