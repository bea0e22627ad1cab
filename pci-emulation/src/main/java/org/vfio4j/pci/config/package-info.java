/**
 * PCI configuration space: the per-bit register model ({@link org.vfio4j.pci.config.ConfigSpace}), the guest access
 * contract ({@link org.vfio4j.pci.config.ConfigAccess}), register constants and the type 0/1 headers.
 */
package org.vfio4j.pci.config;
