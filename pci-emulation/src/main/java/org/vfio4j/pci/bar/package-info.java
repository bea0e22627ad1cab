/** Base address registers and the expansion ROM BAR: definitions, the sizing protocol, the moves and decode changes a guest write makes. */
package org.vfio4j.pci.bar;
