package org.vfio4j.vfio.pci;

import jakarta.inject.Inject;
import java.util.Objects;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.VfioContext;

/**
 * Builds {@link VfioPciDevice}s for one VM in its {@link VfioContext}, on its PCI host bridge: what
 * {@link org.vfio4j.vfio.VfioModule#withPciDevices()} binds when the injector also has a {@code Vmm} and a
 * {@link PciHostBridge} (e.g. from vmm-core's KvmModule and pci-emulation's PciEmulationModule). Devices go on the
 * host bridge's root bus. The caller owns (closes) each device it creates, and closes the context after them.
 */
public final class VfioPciDeviceFactory {
    private final VfioContext context;
    private final PciHostBridge hostBridge;

    /** For the VM of {@code context}, attaching to {@code hostBridge}'s root bus. */
    @Inject
    public VfioPciDeviceFactory(VfioContext context, PciHostBridge hostBridge) {
        this.context = Objects.requireNonNull(context, "context");
        this.hostBridge = Objects.requireNonNull(hostBridge, "hostBridge");
    }

    /** The VM's VFIO context the devices are attached through. */
    public VfioContext context() {
        return context;
    }

    /** Attaches host function {@code host} (BDF or sysfs path) at guest slot {@code slot} with default options. */
    public VfioPciDevice create(String host, int slot) {
        return create(VfioPciOptions.builder(host).slot(slot).build());
    }

    /** Attaches a function with the given options. */
    public VfioPciDevice create(VfioPciOptions options) {
        return VfioPciDevice.attach(context, hostBridge.rootBus(), options);
    }
}
