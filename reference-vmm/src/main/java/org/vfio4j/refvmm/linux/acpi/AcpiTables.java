package org.vfio4j.refvmm.linux.acpi;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ACPI tables of the machine laid out at one guest-physical base: the RSDP first (16-byte aligned, so the
 * legacy scan of 0xE0000-0xFFFFF finds it too), then the XSDT, FADT, MADT, MCFG and DSDT, each 16-byte aligned.
 *
 * @param base        guest-physical address of {@link #bytes()}[0]
 * @param bytes       the image to copy to guest memory at {@code base}
 * @param rsdpAddress the RSDP's address (for boot_params.acpi_rsdp_addr)
 * @param addresses   each table's address by signature ("RSD PTR ", "XSDT", "FACP", "APIC", "MCFG", "DSDT"), in
 *                    layout order
 */
public record AcpiTables(long base, byte[] bytes, long rsdpAddress, Map<String, Long> addresses) {
    /** The standard base address, in the BIOS area. */
    public static final long STANDARD_BASE = 0xE_0000L;
    /** Tables must end at or below this address (1 MiB): the BIOS area, which the e820 map reserves. */
    public static final long LIMIT = 0x10_0000L;

    /** Defensive copies. */
    public AcpiTables {
        bytes = bytes.clone();
        addresses = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(addresses));
    }

    /** The image (a copy). */
    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The tables for {@code vcpus} vCPUs in the standard layout at {@link #STANDARD_BASE}. */
    public static AcpiTables build(int vcpus) {
        return build(STANDARD_BASE, AcpiConfig.standard(vcpus));
    }

    /**
     * Lays out the tables for {@code config} at {@code base} (16-byte aligned). Throws
     * {@link IllegalArgumentException} when they would not end at or below {@link #LIMIT}.
     */
    public static AcpiTables build(long base, AcpiConfig config) {
        if ((base & 15) != 0 || base < 0) {
            throw new IllegalArgumentException("ACPI base must be 16-byte aligned: 0x" + Long.toHexString(base));
        }
        byte[] dsdt = Dsdt.build(config);
        byte[] madt = Madt.build(config);
        byte[] mcfg = Mcfg.build(config.ecamBase(), config.ecamBuses());
        long rsdpAt = base;
        long xsdtAt = align(rsdpAt + Rsdp.LENGTH);
        long xsdtLength = AcpiTable.HEADER_LENGTH + 8 * 3;
        long fadtAt = align(xsdtAt + xsdtLength);
        long madtAt = align(fadtAt + Fadt.LENGTH);
        long mcfgAt = align(madtAt + madt.length);
        long dsdtAt = align(mcfgAt + mcfg.length);
        long end = dsdtAt + dsdt.length;
        if (end > LIMIT) {
            throw new IllegalArgumentException(String.format(
                    "ACPI tables for %d vCPUs need %d bytes at 0x%x, ending at 0x%x, past the 1 MiB limit 0x%x",
                    config.vcpus(), end - base, base, end, LIMIT));
        }
        Map<String, Long> at = new LinkedHashMap<>();
        at.put(Rsdp.SIGNATURE, rsdpAt);
        at.put("XSDT", xsdtAt);
        at.put("FACP", fadtAt);
        at.put("APIC", madtAt);
        at.put("MCFG", mcfgAt);
        at.put("DSDT", dsdtAt);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        place(out, base, rsdpAt, Rsdp.build(xsdtAt));
        place(out, base, xsdtAt, Xsdt.build(List.of(fadtAt, madtAt, mcfgAt)));
        place(out, base, fadtAt, Fadt.build(dsdtAt));
        place(out, base, madtAt, madt);
        place(out, base, mcfgAt, mcfg);
        place(out, base, dsdtAt, dsdt);
        return new AcpiTables(base, out.toByteArray(), rsdpAt, at);
    }

    /** The table (or RSDP) with {@code signature}, cut out of the image. */
    public byte[] table(String signature) {
        Long at = addresses.get(signature);
        if (at == null) {
            throw new IllegalArgumentException("no table " + signature);
        }
        int off = (int) (at - base);
        int length = signature.equals(Rsdp.SIGNATURE) ? Rsdp.LENGTH
                : (bytes[off + 4] & 0xFF) | (bytes[off + 5] & 0xFF) << 8 | (bytes[off + 6] & 0xFF) << 16
                        | (bytes[off + 7] & 0xFF) << 24;
        return java.util.Arrays.copyOfRange(bytes, off, off + length);
    }

    private static long align(long a) {
        return (a + 15) & ~15L;
    }

    private static void place(ByteArrayOutputStream out, long base, long at, byte[] table) {
        while (base + out.size() < at) {
            out.write(0);
        }
        out.writeBytes(table);
    }
}
