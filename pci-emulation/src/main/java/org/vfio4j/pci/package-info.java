/**
 * Emulated PCI for vfio4j: configuration space with per-bit semantics ({@code config}), capability chains
 * ({@code caps}), BARs ({@code bar}), MSI ({@code msi}), MSI-X ({@code msix}) and the bus hierarchy with host bridge
 * access mechanisms ({@code bus}). {@link org.vfio4j.pci.PciEmulationModule} wires a hierarchy with Guice.
 */
package org.vfio4j.pci;
