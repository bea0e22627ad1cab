/** Base address registers and the expansion ROM BAR: definitions, the sizing protocol, move/decode listeners. */
package org.vfio4j.pci.bar;
