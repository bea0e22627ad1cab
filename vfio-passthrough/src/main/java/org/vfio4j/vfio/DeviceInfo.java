package org.vfio4j.vfio;

import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.util.List;
import org.vfio4j.vfio.caps.RawCapability;

/**
 * What {@code VFIO_DEVICE_GET_INFO} says about a device.
 *
 * @param flags {@code VFIO_DEVICE_FLAGS_*}
 * @param numRegions max region index + 1
 * @param numIrqs max IRQ index + 1
 * @param capabilities the device capability chain, kept raw (the ids defined so far are s390 zPCI ones)
 * @param chainProblems why the chain was cut short, if it was
 */
public record DeviceInfo(int flags, int numRegions, int numIrqs, List<RawCapability> capabilities,
        List<String> chainProblems) {

    /** Copies the lists. */
    public DeviceInfo {
        capabilities = List.copyOf(capabilities);
        chainProblems = List.copyOf(chainProblems);
    }

    /** The device supports VFIO_DEVICE_RESET. */
    public boolean resettable() {
        return (flags & VFIO_DEVICE_FLAGS_RESET) != 0;
    }

    /** A vfio-pci device. */
    public boolean pci() {
        return (flags & VFIO_DEVICE_FLAGS_PCI) != 0;
    }

    /** The flags by name, e.g. {@code [RESET, PCI]}. */
    public List<String> flagNames() {
        String[] names = {"RESET", "PCI", "PLATFORM", "AMBA", "CCW", "AP", "FSL_MC", "CAPS"};
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if ((flags & (1 << i)) != 0) {
                out.add(names[i]);
            }
        }
        int unknown = flags & ~0xff;
        if (unknown != 0) {
            out.add(String.format("0x%x", unknown));
        }
        return out;
    }
}
