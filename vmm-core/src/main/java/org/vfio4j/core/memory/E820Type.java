package org.vfio4j.core.memory;

/**
 * The address-range types of the x86 BIOS memory map (INT 15h E820, and Linux's {@code boot_params.e820_table}).
 * The numbers are the ones the firmware interface and {@code asm/e820/types.h} use.
 */
public enum E820Type {
    /** Usable RAM. */
    RAM(1),
    /** Reserved: the OS must not use it as RAM (firmware tables handed to drivers, stolen graphics memory). */
    RESERVED(2),
    /** ACPI tables, reclaimable once read. */
    ACPI(3),
    /** ACPI non-volatile storage: preserved across sleep states, never used as RAM (where firmware puts OpRegions). */
    NVS(4),
    /** Memory with detected errors. */
    UNUSABLE(5);

    private final int code;

    E820Type(int code) {
        this.code = code;
    }

    /** The number the memory map carries for this type. */
    public int code() {
        return code;
    }
}
