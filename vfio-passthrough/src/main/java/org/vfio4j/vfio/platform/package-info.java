/**
 * vfio-platform and vfio-amba devices: {@link org.vfio4j.vfio.platform.VfioPlatformDevice} opens a platform device
 * bound to vfio-platform, checks its regions and interrupts against what the firmware says about it (the device
 * tree node, {@link org.vfio4j.vfio.platform.DeviceTree}, or the ACPI {@code _CRS},
 * {@link org.vfio4j.vfio.platform.AcpiResources}), maps it into a guest and routes its interrupts, and describes it
 * for the guest ({@link org.vfio4j.vfio.platform.PlatformGuestDescription}, written as a device-tree overlay by
 * {@link org.vfio4j.vfio.platform.FdtWriter}).
 */
package org.vfio4j.vfio.platform;
