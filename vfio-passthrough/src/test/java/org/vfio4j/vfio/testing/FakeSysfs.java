package org.vfio4j.vfio.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * Builds a sysfs tree under a temporary directory with the links VFIO code reads, shaped like the real one: the
 * device directory under {@code sys/devices/pci0000:00}, {@code sys/bus/pci/devices/BDF} linking to it, its
 * {@code iommu_group} link to {@code sys/kernel/iommu_groups/N}, the group's {@code devices/BDF} link back, and the
 * {@code driver} link to {@code sys/bus/pci/drivers/NAME} with the driver's {@code BDF} link.
 */
public final class FakeSysfs {
    private final Path root;

    /** A tree under {@code root} (a JUnit {@code @TempDir}). */
    public FakeSysfs(Path root) {
        this.root = root;
    }

    /** The {@link Sysfs} view of this tree. */
    public Sysfs sysfs() {
        return new Sysfs(root);
    }

    /**
     * Adds a PCI device in IOMMU group {@code group}, bound to {@code driver} (null for no driver).
     *
     * @return this, for chaining
     */
    public FakeSysfs pciDevice(String bdf, int group, String driver) {
        try {
            Path sys = root.resolve("sys");
            Path dev = Files.createDirectories(sys.resolve("devices/pci0000:00/" + bdf));
            Path busLink = sys.resolve("bus/pci/devices/" + bdf);
            Files.createDirectories(busLink.getParent());
            Files.createSymbolicLink(busLink, dev);
            Path groupDir = Files.createDirectories(sys.resolve("kernel/iommu_groups/" + group + "/devices"));
            Files.createSymbolicLink(dev.resolve("iommu_group"), groupDir.getParent());
            Files.createSymbolicLink(groupDir.resolve(bdf), dev);
            if (driver != null) {
                Path drv = Files.createDirectories(sys.resolve("bus/pci/drivers/" + driver));
                Files.createSymbolicLink(dev.resolve("driver"), drv);
                Files.createSymbolicLink(drv.resolve(bdf), dev);
            }
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
