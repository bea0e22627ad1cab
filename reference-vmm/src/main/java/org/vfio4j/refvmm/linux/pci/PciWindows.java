package org.vfio4j.refvmm.linux.pci;

/**
 * The three windows PCI BARs are placed in, also declared as host bridge windows in the DSDT.
 *
 * @param io    I/O BARs (must end at or below 0xFFFF)
 * @param mem32 32-bit memory BARs and expansion ROMs (must end below 4 GiB)
 * @param mem64 64-bit memory BARs, prefetchable or not
 */
public record PciWindows(PciWindow io, PciWindow mem32, PciWindow mem64) {
    /** The layout of the Linux reference VMM (see LINUX-VMM.md): I/O 0x1000-0xFFFF. */
    public static final PciWindow STANDARD_IO = PciWindow.ofRange(0x1000, 0xFFFF);
    /** 0xC000_0000-0xFEBF_FFFF: from above ECAM to below the IO-APIC. */
    public static final PciWindow STANDARD_MEM32 = PciWindow.ofRange(0xC000_0000L, 0xFEBF_FFFFL);
    /** 256 GiB at 256 GiB, inside 39 physical address bits. */
    public static final PciWindow STANDARD_MEM64 = PciWindow.ofRange(0x40_0000_0000L, 0x7F_FFFF_FFFFL);
    /** The standard windows together. */
    public static final PciWindows STANDARD = new PciWindows(STANDARD_IO, STANDARD_MEM32, STANDARD_MEM64);

    /** Checks each window is in its address space. */
    public PciWindows {
        if (io.last() > 0xFFFF) {
            throw new IllegalArgumentException("I/O window must end at or below 0xFFFF: " + io);
        }
        if (mem32.last() > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("32-bit window must end below 4 GiB: " + mem32);
        }
    }
}
