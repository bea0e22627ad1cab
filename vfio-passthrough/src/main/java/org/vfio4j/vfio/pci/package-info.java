/**
 * {@link org.vfio4j.vfio.pci.VfioPciDevice}: a host PCI function passed through to a guest with VFIO, with its
 * config space virtualized, BARs mapped or trapped, interrupts routed and guest RAM mapped for DMA. See
 * {@code docs/config-space.md} for which config bits the VMM emulates and why.
 */
package org.vfio4j.vfio.pci;
