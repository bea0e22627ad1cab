package org.vfio4j.examples.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * Host PCI functions bound to vfio-pci, found by their {@code vendor:device} id in sysfs: how the demo and the
 * benchmark pick their devices when none is given. In the testbed guest that finds its edu, nvme and e1000e (QEMU's
 * models, one id each); on another host, whichever such function was bound to vfio-pci.
 */
final class VfioPciFunctions {
    private VfioPciFunctions() {
    }

    /** The first function (by BDF) bound to vfio-pci whose id is {@code pciId} ({@code 1234:11e8}), if any. */
    static Optional<String> first(Sysfs sysfs, String pciId) {
        return sysfs.vfioPciDevices().stream().filter(bdf -> pciId.equals(pciId(sysfs, bdf))).findFirst();
    }

    /** {@code vendor:device} of a host function (lower-case hex), or null when sysfs has no such function. */
    static String pciId(Sysfs sysfs, String bdf) {
        Path dir = sysfs.sys("bus/pci/devices").resolve(bdf);
        try {
            String vendor = Files.readString(dir.resolve("vendor"), StandardCharsets.US_ASCII).trim();
            String device = Files.readString(dir.resolve("device"), StandardCharsets.US_ASCII).trim();
            return vendor.replace("0x", "") + ":" + device.replace("0x", "");
        } catch (IOException e) {
            return null;
        }
    }
}
