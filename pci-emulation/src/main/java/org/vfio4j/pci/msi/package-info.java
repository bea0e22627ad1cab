/** MSI: the emulated capability with multiple messages, per-vector masking; reprogramming is reported as {@link org.vfio4j.pci.config.ConfigChange}s. */
package org.vfio4j.pci.msi;
