/**
 * The PCI hierarchy: buses with device/function slots, bridges, the host bridge with configuration mechanism #1
 * and ECAM trap handlers, and a BAR allocator for firmware-less boots.
 */
package org.vfio4j.pci.bus;
