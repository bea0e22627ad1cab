/**
 * MSI-X: the capability, vector table and PBA; enable and table changes are returned as
 * {@link org.vfio4j.pci.config.ConfigChange}s.
 */
package org.vfio4j.pci.msix;
