/**
 * Capability chains: parsing a physical chain, hiding, replacing and adding emulated standard and extended
 * capabilities ({@link org.vfio4j.pci.caps.CapabilityList}), and the simple capabilities (PM, PCIe, vendor, raw).
 */
package org.vfio4j.pci.caps;
