package org.vfio4j.refvmm.linux.pci;

/** What a BAR decodes, as found by sizing it. */
public enum BarKind {
    /** An I/O port BAR. */
    IO("io"),
    /** A 32-bit memory BAR. */
    MEMORY32("mem32"),
    /** A 64-bit memory BAR (two registers). */
    MEMORY64("mem64"),
    /** The expansion ROM BAR (32-bit memory, left disabled). */
    ROM("rom");

    private final String label;

    BarKind(String label) {
        this.label = label;
    }

    /** A short lower-case label for log lines. */
    public String label() {
        return label;
    }
}
