/** Device interrupts over VFIO: IRQ info and SET_IRQS (eventfd triggers, mask/unmask, INTx resample). */
package org.vfio4j.vfio.irq;
