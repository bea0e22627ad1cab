/** MSI-X: the capability, vector table and PBA trap handlers, and the listener API for route management. */
package org.vfio4j.pci.msix;
