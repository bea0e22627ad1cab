package org.vfio4j.vfio.pci;

import jakarta.inject.Inject;
import java.util.Objects;
import org.vfio4j.core.Vmm;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;

/**
 * Builds {@link VfioPciDevice}s for one VMM and its PCI host bridge: what {@link org.vfio4j.vfio.VfioModule}
 * binds when the injector also has a {@link Vmm} and a {@link PciHostBridge} (e.g. from vmm-core's KvmModule and
 * pci-emulation's PciEmulationModule). Devices go on the host bridge's root bus. The caller owns (closes) each
 * device it creates.
 */
public final class VfioPciDeviceFactory {
    private final Vfio vfio;
    private final Vmm vmm;
    private final PciHostBridge hostBridge;

    /** For {@code vmm}, attaching to {@code hostBridge}'s root bus. */
    @Inject
    public VfioPciDeviceFactory(Vfio vfio, Vmm vmm, PciHostBridge hostBridge) {
        this.vfio = Objects.requireNonNull(vfio, "vfio");
        this.vmm = Objects.requireNonNull(vmm, "vmm");
        this.hostBridge = Objects.requireNonNull(hostBridge, "hostBridge");
    }

    /** Attaches host function {@code host} (BDF or sysfs path) at guest slot {@code slot} with default options. */
    public VfioPciDevice create(String host, int slot) {
        return create(VfioPciOptions.builder(host).slot(slot).build());
    }

    /** Attaches a function with the given options. */
    public VfioPciDevice create(VfioPciOptions options) {
        return VfioPciDevice.attach(vfio, vmm, hostBridge.rootBus(), options);
    }
}
