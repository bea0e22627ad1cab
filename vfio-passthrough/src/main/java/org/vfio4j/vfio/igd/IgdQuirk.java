package org.vfio4j.vfio.igd;

import static org.vfio4j.pci.config.PciRegisters.PCI_CLASS_DEVICE;
import static org.vfio4j.pci.config.PciRegisters.PCI_DEVICE_ID;
import static org.vfio4j.pci.config.PciRegisters.PCI_VENDOR_ID;
import static org.vfio4j.vfio.uapi.VfioConstants.PCI_VENDOR_ID_INTEL;
import static org.vfio4j.vfio.uapi.VfioConstants.VFIO_PCI_CONFIG_REGION_INDEX;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfio4j.vfio.pci.DeviceQuirk;
import org.vfio4j.vfio.pci.QuirkContext;
import org.vfio4j.vfio.region.RegionType;
import org.vfio4j.vfio.region.VfioRegion;

/**
 * Intel integrated graphics (IGD) assignment: what a guest IGD driver expects from the platform besides the device
 * itself.
 *
 * <ul>
 *   <li>the OpRegion, copied into reserved guest RAM with its address in ASLS ({@link OpRegionHandler});</li>
 *   <li>the host bridge's ids on the guest's 00:00.0 ({@link HostBridgeHandler});</li>
 *   <li>the LPC bridge's ids on an ISA bridge at 00:1f.0 ({@link LpcBridgeHandler});</li>
 *   <li>GMCH and BDSM emulated for the generation, with the stolen memory reserved in guest RAM
 *       ({@link StolenMemory}).</li>
 * </ul>
 *
 * <p>It applies to Intel display-class functions (base class 03). The first three come from the kernel's
 * device-specific regions (PCI vendor type 0x8086, subtypes 1, 2, 3), dispatched through a
 * {@link DeviceRegionRegistry}; each is installed only when its region exists. Without an OpRegion region (a non-IGD
 * Intel display device, or a kernel without IGD support) the stolen-memory registers are left alone too, and the
 * quirk changes nothing. An unknown device id (no known generation) gets the regions but no GMCH/BDSM emulation.
 *
 * <p>Attach the IGD on the root bus (legacy guests and its video BIOS want 00:02.0).
 */
public final class IgdQuirk implements DeviceQuirk {
    private static final Logger LOG = LoggerFactory.getLogger(IgdQuirk.class);

    private final OptionalInt gmsOverride;
    private final DeviceRegionRegistry registry = new DeviceRegionRegistry()
            .register(new OpRegionHandler())
            .register(new HostBridgeHandler())
            .register(new LpcBridgeHandler());

    /** Keeps the host's stolen-memory size (GMS). */
    public IgdQuirk() {
        this(OptionalInt.empty());
    }

    /**
     * Shows the guest another stolen-memory size than the host's (QEMU's {@code x-igd-gms}).
     *
     * @param gmsOverride a GMS value to show the guest instead of the host's (its stolen size is reserved in guest
     *     RAM; 0 reserves none), or empty for the host's
     */
    public IgdQuirk(OptionalInt gmsOverride) {
        this.gmsOverride = gmsOverride;
    }

    /** The registry of the region handlers this quirk uses. */
    DeviceRegionRegistry registry() {
        return registry;
    }

    @Override
    public String name() {
        return "igd";
    }

    @Override
    public boolean appliesTo(QuirkContext context) {
        return context.config().getWord(PCI_VENDOR_ID) == PCI_VENDOR_ID_INTEL
                && context.config().getByte(PCI_CLASS_DEVICE + 1) == 0x03;
    }

    @Override
    public AutoCloseable install(QuirkContext context) {
        DeviceRegionRegistry.Plan plan = registry.plan(context.regions());
        if (plan.claimed().isEmpty()) {
            LOG.info("{}: no IGD regions (not an IGD, or the kernel does not expose them); nothing to do",
                    context.name());
            DeviceRegionRegistry.install(context, plan); // logs the unclaimed ones
            return () -> { };
        }
        if (context.address().bus() != 0 || context.address().device() != 2 || context.address().function() != 0) {
            LOG.warn("{}: IGD attached at guest {}; guest drivers and the video BIOS of older generations expect it "
                    + "at 00:02.0", context.name(), context.address());
        }
        Deque<AutoCloseable> undo = new ArrayDeque<>();
        try {
            undo.push(DeviceRegionRegistry.install(context, plan));
            if (plan.region(RegionType.INTEL_IGD_OPREGION).isPresent()) {
                VfioRegion config = context.device().region(VFIO_PCI_CONFIG_REGION_INDEX);
                int deviceId = (int) config.read(PCI_DEVICE_ID, 2);
                OptionalInt gen = IgdGeneration.of(deviceId);
                if (gen.isPresent()) {
                    undo.push(StolenMemory.install(context, gen.getAsInt(), gmsOverride));
                } else {
                    LOG.warn("{}: device id 0x{} has no known IGD generation; GMCH and BDSM are not emulated",
                            context.name(), Integer.toHexString(deviceId));
                }
            }
        } catch (RuntimeException e) {
            DeviceRegionRegistry.closeAll(undo, e);
            throw e;
        }
        return () -> DeviceRegionRegistry.closeAll(undo);
    }
}
