/**
 * The Linux-booting reference VMM: a q35-like x86-64 machine that boots a bzImage directly in 64-bit mode, with
 * ACPI tables ({@code .acpi}), firmware-like PCI resource assignment ({@code .pci}) and boot setup ({@code .boot}).
 */
package org.vfio4j.refvmm.linux;
