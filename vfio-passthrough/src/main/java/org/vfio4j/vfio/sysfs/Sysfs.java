package org.vfio4j.vfio.sysfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.vfio4j.vfio.errors.VfioException;

/**
 * The sysfs facts VFIO needs: which IOMMU group a PCI device is in, which devices share a group, and which driver
 * each is bound to. The root is injectable so tests can build a fake tree in a temporary directory; on a host it is
 * {@code /}.
 */
public final class Sysfs {
    private static final Pattern SHORT_BDF = Pattern.compile("[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
    private static final Pattern FULL_BDF = Pattern.compile("[0-9a-fA-F]{4}:" + SHORT_BDF.pattern());

    private final Path root;

    /** A view of sysfs under {@code root} ({@code root/sys/...}). */
    public Sysfs(Path root) {
        this.root = root;
    }

    /** The host's sysfs. */
    public static Sysfs host() {
        return new Sysfs(Path.of("/"));
    }

    /** The root this view resolves {@code /sys} against. */
    public Path root() {
        return root;
    }

    /** {@code root/sys/<relative>}. */
    public Path sys(String relative) {
        return root.resolve("sys").resolve(relative);
    }

    /**
     * Normalises a PCI address: {@code 01:00.0} becomes {@code 0000:01:00.0}; a full address is lower-cased.
     *
     * @throws VfioException when it isn't a PCI address
     */
    public static String normalizeBdf(String bdf) {
        String s = bdf.trim().toLowerCase();
        if (SHORT_BDF.matcher(s).matches()) {
            return "0000:" + s;
        }
        if (FULL_BDF.matcher(s).matches()) {
            return s;
        }
        throw new VfioException("not a PCI address (expected DDDD:BB:SS.F or BB:SS.F): " + bdf);
    }

    /** True when {@code s} looks like a PCI address. */
    public static boolean isBdf(String s) {
        String t = s.trim().toLowerCase();
        return SHORT_BDF.matcher(t).matches() || FULL_BDF.matcher(t).matches();
    }

    /**
     * The sysfs directory of a device given as a BDF or a sysfs path ({@code /sys/bus/pci/devices/0000:01:00.0} or a
     * {@code /sys/devices/...} path). Absolute paths under {@code /sys} are resolved against this view's root.
     */
    public Path deviceDir(String bdfOrPath) {
        if (bdfOrPath.contains("/")) {
            String p = bdfOrPath;
            if (p.startsWith("/sys/")) {
                return sys(p.substring("/sys/".length()));
            }
            return Path.of(p);
        }
        return sys("bus/pci/devices/" + normalizeBdf(bdfOrPath));
    }

    /** The device name VFIO knows a device by: the last element of its sysfs directory (its BDF for PCI). */
    public String deviceName(String bdfOrPath) {
        Path dir = deviceDir(bdfOrPath);
        try {
            return dir.toRealPath().getFileName().toString();
        } catch (IOException e) {
            return dir.getFileName().toString();
        }
    }

    /**
     * The IOMMU group of a device: the number its {@code iommu_group} symlink points to.
     *
     * @throws VfioException when the device doesn't exist or has no IOMMU group (no IOMMU, or IOMMU disabled)
     */
    public int iommuGroupOf(String bdfOrPath) {
        Path dir = deviceDir(bdfOrPath);
        if (!Files.isDirectory(dir)) {
            throw new VfioException("no such device: " + bdfOrPath + " (" + dir + " does not exist)");
        }
        Path link = dir.resolve("iommu_group");
        try {
            Path target = Files.readSymbolicLink(link);
            return Integer.parseInt(target.getFileName().toString());
        } catch (IOException | NumberFormatException e) {
            throw new VfioException("device " + bdfOrPath + " has no IOMMU group (" + link
                    + " is missing or unreadable: is the IOMMU enabled, e.g. intel_iommu=on?)", e);
        }
    }

    /** The devices in IOMMU group {@code group}, by name, sorted; empty when the group doesn't exist. */
    public List<String> groupDevices(int group) {
        Path dir = sys("kernel/iommu_groups/" + group + "/devices");
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    /** The driver bound to a device in IOMMU group {@code group}, from its {@code driver} symlink. */
    public Optional<String> driverOf(int group, String device) {
        return driverIn(sys("kernel/iommu_groups/" + group + "/devices/" + device));
    }

    /** The driver bound to a PCI device, from its {@code driver} symlink. */
    public Optional<String> driverOf(String bdfOrPath) {
        return driverIn(deviceDir(bdfOrPath));
    }

    private static Optional<String> driverIn(Path deviceDir) {
        try {
            return Optional.of(Files.readSymbolicLink(deviceDir.resolve("driver")).getFileName().toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** The PCI devices bound to vfio-pci ({@code /sys/bus/pci/drivers/vfio-pci/<BDF>}), sorted. */
    public List<String> vfioPciDevices() {
        Path dir = sys("bus/pci/drivers/vfio-pci");
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(Sysfs::isBdf).forEach(out::add);
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    @Override
    public String toString() {
        return "sysfs under " + root;
    }
}
