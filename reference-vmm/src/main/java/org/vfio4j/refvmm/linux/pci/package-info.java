/**
 * Firmware-like PCI setup for the Linux reference VMM: {@link org.vfio4j.refvmm.linux.pci.PciResourceAssigner}
 * sizes and places the BARs of every function on the root bus and programs command and interrupt line registers
 * before the kernel starts, within the address windows of {@link org.vfio4j.refvmm.linux.pci.PciWindows}, which the
 * DSDT's host bridge _CRS declares too; {@link org.vfio4j.refvmm.linux.pci.IntxRouting} is the INTx-to-GSI formula
 * shared with the DSDT's _PRT.
 */
package org.vfio4j.refvmm.linux.pci;
