/**
 * {@code vfio4j-demo} ({@link org.vfio4j.examples.demo.VfioDemo}): a small VMM built from vfio4j's public API and
 * Guice modules that passes an edu device through to a KVM guest and reports what was mapped, trapped, counted and
 * delivered; and {@code vfio4j-bench} ({@link org.vfio4j.examples.demo.VfioBench}): one guest program run by this
 * VMM and by QEMU's vfio-pci, timing each passthrough path and printing the vfio4j/QEMU ratios.
 */
package org.vfio4j.examples.demo;
