/**
 * Legacy VGA for passed-through display functions: {@link org.vfio4j.vfio.vga.LegacyVgaQuirk} forwards the VGA memory
 * window and ports through vfio-pci's VGA region, off unless the VMM asks for it.
 */
package org.vfio4j.vfio.vga;
