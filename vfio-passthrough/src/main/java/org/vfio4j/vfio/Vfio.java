package org.vfio4j.vfio;

import jakarta.inject.Inject;
import java.util.List;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.util.Closer;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * The entry point of the VFIO layer: opens containers, groups and devices through one {@link Syscalls} seam and one
 * {@link Sysfs} view. Stateless; every object it opens is owned by the caller.
 *
 * <pre>{@code
 * try (VfioStack s = vfio.openPciDevice("0000:01:00.0")) {
 *     RegionInfo bar0 = s.device().regionInfo(VfioConstants.VFIO_PCI_BAR0_REGION_INDEX);
 *     DmaMapping m = s.iommu().map(ram.address(), 0, ram.length(), true, true);
 * }
 * }</pre>
 */
public final class Vfio {
    private final Syscalls sys;
    private final Sysfs sysfs;

    /** With the given seam and sysfs view. */
    @Inject
    public Vfio(Syscalls sys, Sysfs sysfs) {
        this.sys = sys;
        this.sysfs = sysfs;
    }

    /** On the real kernel and the host's sysfs. */
    public static Vfio host() {
        return new Vfio(Syscalls.linux(), Sysfs.host());
    }

    /** The syscall seam. */
    public Syscalls syscalls() {
        return sys;
    }

    /** The sysfs view. */
    public Sysfs sysfs() {
        return sysfs;
    }

    /** Opens a new container ({@code /dev/vfio/vfio}). */
    public VfioContainer openContainer() {
        return VfioContainer.open(sys);
    }

    /** Opens group {@code /dev/vfio/<id>} (viable or not; see {@link VfioGroup#requireViable()}). */
    public VfioGroup openGroup(int id) {
        return VfioGroup.open(sys, sysfs, id);
    }

    /** The IOMMU group of a PCI device given as a BDF ({@code 0000:01:00.0} or {@code 01:00.0}) or sysfs path. */
    public int groupOf(String bdfOrPath) {
        return sysfs.iommuGroupOf(bdfOrPath);
    }

    /** The PCI devices bound to vfio-pci on this host. */
    public List<String> vfioPciDevices() {
        return sysfs.vfioPciDevices();
    }

    /**
     * Opens everything a single device needs: a new container, the device's group (which must be viable), the
     * type1 IOMMU (v2 preferred), and the device fd. On failure, whatever was opened is closed again. This is the
     * low-level path for tools and tests; a VM opens its devices through its one {@link VfioContext}, which shares
     * the container and groups between them.
     */
    public VfioStack openPciDevice(String bdfOrPath) {
        String name = sysfs.deviceName(bdfOrPath);
        int groupId = groupOf(bdfOrPath);
        VfioContainer container = openContainer();
        VfioGroup group = null;
        try {
            group = openGroup(groupId);
            container.attach(group);
            container.setIommu();
            VfioDevice device = group.openDevice(name);
            return new VfioStack(container, group, device);
        } catch (RuntimeException | Error e) {
            Closer.closeAfter(e, group, container);
            throw e;
        }
    }
}
