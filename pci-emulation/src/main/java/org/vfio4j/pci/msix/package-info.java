/** MSI-X: the capability, vector table and PBA trap handlers; enable and table changes are reported as {@link org.vfio4j.pci.config.ConfigChange}s. */
package org.vfio4j.pci.msix;
