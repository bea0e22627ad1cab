/**
 * ACPI firmware tables for the Linux reference VMM: a minimal AML encoder ({@link org.vfio4j.refvmm.linux.acpi.Aml},
 * {@link org.vfio4j.refvmm.linux.acpi.ResourceTemplate}), the RSDP, XSDT, FADT, MADT, MCFG and DSDT, and
 * {@link org.vfio4j.refvmm.linux.acpi.AcpiTables}, which lays them out in guest memory.
 */
package org.vfio4j.refvmm.linux.acpi;
