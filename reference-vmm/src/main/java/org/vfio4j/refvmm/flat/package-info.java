/**
 * A small VMM built from vfio4j's public API and Guice modules, for running flat guest programs against
 * passed-through devices: {@link org.vfio4j.refvmm.flat.GuestMachine} (KVM, RAM, PCI host bridge on CF8/CFC and
 * ECAM, VFIO devices, the program as BIOS image, debugcon and debug-exit ports, KVM exit counters),
 * {@link org.vfio4j.refvmm.flat.GuestImage} (assembles the programs with binutils),
 * {@link org.vfio4j.refvmm.flat.GuestOutput} (the program's results, stamped with exit counts) and
 * {@link org.vfio4j.refvmm.flat.QemuGuestRunner} (the same image under QEMU, for comparison). The demo VMM and the
 * benchmark in {@code examples} and the end-to-end passthrough tests use it; the program protocol is described in
 * {@code org/vfio4j/refvmm/flat/guest/README.md}.
 */
package org.vfio4j.refvmm.flat;
