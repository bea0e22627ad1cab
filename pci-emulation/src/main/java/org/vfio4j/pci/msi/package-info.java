/** MSI: the emulated capability with multiple messages, per-vector masking and a listener for reprogramming. */
package org.vfio4j.pci.msi;
