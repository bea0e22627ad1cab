/** Device reset over VFIO: function reset, and PCI hot (bus/slot) reset with its dependency query. */
package org.vfio4j.vfio.reset;
