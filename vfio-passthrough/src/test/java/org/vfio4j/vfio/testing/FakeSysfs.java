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

    /**
     * Adds a platform device ({@code bus} "platform" or "amba") in IOMMU group {@code group}, bound to
     * {@code driver} (null for none): {@code sys/devices/platform/NAME}, {@code sys/bus/BUS/devices/NAME} linking to
     * it, its {@code iommu_group} and {@code driver} links.
     */
    public FakeSysfs platformDevice(String bus, String name, int group, String driver) {
        try {
            Path sys = root.resolve("sys");
            Path dev = Files.createDirectories(sys.resolve("devices/platform/" + name));
            Path busLink = sys.resolve("bus/" + bus + "/devices/" + name);
            Files.createDirectories(busLink.getParent());
            Files.createSymbolicLink(busLink, dev);
            Path groupDir = Files.createDirectories(sys.resolve("kernel/iommu_groups/" + group + "/devices"));
            Files.createSymbolicLink(dev.resolve("iommu_group"), groupDir.getParent());
            Files.createSymbolicLink(groupDir.resolve(name), dev);
            if (driver != null) {
                Path drv = Files.createDirectories(sys.resolve("bus/" + bus + "/drivers/" + driver));
                Files.createSymbolicLink(dev.resolve("driver"), drv);
                Files.createSymbolicLink(drv.resolve(name), dev);
            }
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Names IOMMU group {@code group} "vfio-noiommu", as the kernel names the groups of its no-IOMMU mode. */
    public FakeSysfs noIommuGroup(int group) {
        return write("sys/kernel/iommu_groups/" + group + "/name", "vfio-noiommu\n".getBytes());
    }

    /**
     * Writes {@code tree} as the kernel's live device tree ({@code sys/firmware/devicetree/base}: a directory per
     * node, a file per property).
     */
    public FakeSysfs deviceTree(org.vfio4j.vfio.platform.DtNode tree) {
        writeNode(root.resolve("sys/firmware/devicetree/base"), tree);
        return this;
    }

    private static void writeNode(Path dir, org.vfio4j.vfio.platform.DtNode node) {
        try {
            Files.createDirectories(dir);
            for (java.util.Map.Entry<String, byte[]> p : node.properties().entrySet()) {
                Files.write(dir.resolve(p.getKey()), p.getValue());
            }
            for (org.vfio4j.vfio.platform.DtNode c : node.children()) {
                writeNode(dir.resolve(c.name()), c);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Links platform device {@code name}'s {@code of_node} to device-tree node {@code path}. */
    public FakeSysfs ofNode(String name, String path) {
        try {
            Path dev = root.resolve("sys/devices/platform/" + name);
            Files.createSymbolicLink(dev.resolve("of_node"), root.resolve("sys/firmware/devicetree/base"
                    + path));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Gives platform device {@code name} an ACPI companion at {@code acpiPath} ({@code firmware_node/path}) and
     * makes {@code dsdt} the DSDT ({@code sys/firmware/acpi/tables/DSDT}).
     */
    public FakeSysfs acpiNode(String name, String acpiPath, byte[] dsdt) {
        try {
            Path node = Files.createDirectories(root.resolve("sys/devices/LNXSYSTM:00/" + name));
            Files.writeString(node.resolve("path"), acpiPath + "\n");
            Files.createSymbolicLink(root.resolve("sys/devices/platform/" + name + "/firmware_node"), node);
            return write("sys/firmware/acpi/tables/DSDT", dsdt);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private FakeSysfs write(String relative, byte[] bytes) {
        try {
            Path p = root.resolve(relative);
            Files.createDirectories(p.getParent());
            Files.write(p, bytes);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
