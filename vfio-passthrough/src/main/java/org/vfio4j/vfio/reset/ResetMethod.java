package org.vfio4j.vfio.reset;

/** Which reset {@code VfioPciDevice.reset()} or {@link org.vfio4j.vfio.VfioContext} used. */
public enum ResetMethod {
    /** {@code VFIO_DEVICE_RESET}: the kernel's reset for the function (FLR, PM or a device-specific one). */
    DEVICE_RESET,
    /** {@code VFIO_DEVICE_PCI_HOT_RESET}: a secondary bus reset, allowed because this VMM owns every affected group. */
    HOT_RESET,
    /** No reset was possible: the device has no reset and a hot reset would touch groups this VMM doesn't own. */
    NONE
}
