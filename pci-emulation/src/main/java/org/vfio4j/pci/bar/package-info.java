/**
 * Base address registers and the expansion ROM BAR: definitions, the sizing protocol, and the moves and decode
 * changes a guest write returns.
 */
package org.vfio4j.pci.bar;
