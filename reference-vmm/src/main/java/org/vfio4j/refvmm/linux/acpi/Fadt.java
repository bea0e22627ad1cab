package org.vfio4j.refvmm.linux.acpi;

import java.nio.ByteBuffer;

/**
 * The Fixed ACPI Description Table, revision 6 (ACPI 6.0, 276 bytes), for a hardware-reduced platform: no PM1/GPE
 * blocks, no PM timer, no SCI needed; power-off through the sleep control register (Linux writes
 * {@code SLP_TYP << 2 | SLP_EN} there, SLP_TYP from {@code \_S5}), reboot through the reset register.
 *
 * <p>Note that Linux on x86 treats a hardware-reduced platform as having no legacy PIC and skips the PIT/HPET timer
 * setup ({@code acpi_generic_reduced_hw_init}); with KVM's paravirtual clock that is fine (cloud-hypervisor does the
 * same).
 */
public final class Fadt {
    /** Table length of revision 6. */
    public static final int LENGTH = 276;
    /** Table revision. */
    public static final int REVISION = 6;
    /** Port of the sleep control register (8-bit). */
    public static final int SLEEP_CONTROL_PORT = 0x600;
    /** Port of the sleep status register (8-bit, reads 0). */
    public static final int SLEEP_STATUS_PORT = 0x601;
    /** Port of the reset register (8-bit). */
    public static final int RESET_PORT = 0x602;
    /** Value written to the reset register to reset the machine. */
    public static final int RESET_VALUE = 0x01;
    /** SCI interrupt (unused on a hardware-reduced platform, but Linux sets up the GSI). */
    public static final int SCI_INT = 9;
    /** Sleep control register: the sleep enable bit. */
    public static final int SLP_EN = 1 << 5;
    /** Sleep control register: the SLP_TYP field's shift (3 bits). */
    public static final int SLP_TYP_SHIFT = 2;

    /** Flags: WBINVD works. */
    static final int FLAG_WBINVD = 1;
    /** Flags: no fixed-feature power button. */
    static final int FLAG_PWR_BUTTON = 1 << 4;
    /** Flags: no fixed-feature sleep button. */
    static final int FLAG_SLP_BUTTON = 1 << 5;
    /** Flags: the reset register is supported. */
    static final int FLAG_RESET_REG_SUP = 1 << 10;
    /** Flags: hardware-reduced ACPI. */
    static final int FLAG_HW_REDUCED_ACPI = 1 << 20;
    /** IA-PC boot architecture flags: VGA not present. */
    static final int BOOT_VGA_NOT_PRESENT = 1 << 2;
    /** IA-PC boot architecture flags: OSPM must not enable PCIe ASPM. */
    static final int BOOT_PCIE_ASPM_CONTROLS = 1 << 4;
    /** IA-PC boot architecture flags: no CMOS RTC. */
    static final int BOOT_CMOS_RTC_NOT_PRESENT = 1 << 5;

    private Fadt() {
    }

    /**
     * The FADT pointing at a DSDT at {@code dsdtAddress} (in X_DSDT; the 32-bit DSDT field is 0, as the spec asks
     * when X_DSDT is set). Boot architecture flags: no 8042, VGA not present, MSI allowed, ASPM left alone, no RTC.
     */
    public static byte[] build(long dsdtAddress) {
        ByteBuffer b = AcpiTable.body(LENGTH - AcpiTable.HEADER_LENGTH);
        b.putInt(0); // 36 FIRMWARE_CTRL: no FACS (hardware-reduced)
        b.putInt(0); // 40 DSDT: see X_DSDT
        b.put((byte) 0); // 44 reserved
        b.put((byte) 0); // 45 preferred PM profile: unspecified
        b.putShort((short) SCI_INT); // 46
        b.putInt(0); // 48 SMI_CMD: no SMM, ACPI always enabled
        b.position(109 - AcpiTable.HEADER_LENGTH); // 52..108: no legacy blocks, lengths, latencies
        b.putShort((short) (BOOT_VGA_NOT_PRESENT | BOOT_PCIE_ASPM_CONTROLS | BOOT_CMOS_RTC_NOT_PRESENT)); // 109
        b.put((byte) 0); // 111 reserved
        b.putInt(FLAG_WBINVD | FLAG_PWR_BUTTON | FLAG_SLP_BUTTON | FLAG_RESET_REG_SUP | FLAG_HW_REDUCED_ACPI); // 112
        AcpiTable.putIoByteGas(b, RESET_PORT); // 116 RESET_REG
        b.put((byte) RESET_VALUE); // 128
        b.putShort((short) 0); // 129 ARM_BOOT_ARCH
        b.put((byte) 0); // 131 FADT minor version: ACPI 6.0
        b.putLong(0); // 132 X_FIRMWARE_CTRL
        b.putLong(dsdtAddress); // 140 X_DSDT
        b.position(244 - AcpiTable.HEADER_LENGTH); // 148..243: no X_ PM1/PM2/PM timer/GPE blocks
        AcpiTable.putIoByteGas(b, SLEEP_CONTROL_PORT); // 244
        AcpiTable.putIoByteGas(b, SLEEP_STATUS_PORT); // 256
        b.put(AcpiTable.ascii("VFIO4J", 6)); // 268 hypervisor vendor identity (8 bytes, NUL-padded)
        b.put((byte) 0).put((byte) 0);
        return AcpiTable.of("FACP", REVISION, b.array());
    }
}
