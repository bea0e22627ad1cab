/**
 * Trap buses: guest accesses the VMM must emulate, dispatched by address to {@link org.vfio4j.core.bus.TrapHandler}s.
 * A VMM has one {@link org.vfio4j.core.bus.TrapBus} for guest-physical MMIO and one for port I/O.
 */
package org.vfio4j.core.bus;
