/**
 * A small VMM built from vfio4j's public API and Guice modules, for running flat guest programs against
 * passed-through devices: {@link org.vfio4j.vfio.machine.GuestMachine} (KVM, RAM, PCI host bridge on CF8/CFC and
 * ECAM, VFIO devices, the program as BIOS image, debugcon and debug-exit ports, KVM exit counters),
 * {@link org.vfio4j.vfio.machine.GuestImage} (assembles the programs with binutils),
 * {@link org.vfio4j.vfio.machine.GuestOutput} (the program's results, stamped with exit counts) and
 * {@link org.vfio4j.vfio.machine.QemuGuestRunner} (the same image under QEMU, for comparison). The demo VMM in
 * {@code examples} and the passthrough tests both use it; the program protocol is described in
 * {@code org/vfio4j/vfio/machine/guest/README.md}.
 */
package org.vfio4j.vfio.machine;
