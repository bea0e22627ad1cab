/**
 * MSI: the emulated capability with multiple messages and per-vector masking; reprogramming is returned as
 * {@link org.vfio4j.pci.config.ConfigChange}s.
 */
package org.vfio4j.pci.msi;
