/**
 * The bindings: struct layouts, constants and ioctl numbers of {@code linux/vfio.h}, and nothing else. Device logic
 * lives in the capability packages ({@code org.vfio4j.vfio.region}, {@code .irq}, {@code .reset}, {@code .iommu});
 * the thin ioctl wrappers in {@code org.vfio4j.vfio}. Every number here is checked against the C headers by a gcc
 * probe test, never by eye.
 */
package org.vfio4j.vfio.uapi;
