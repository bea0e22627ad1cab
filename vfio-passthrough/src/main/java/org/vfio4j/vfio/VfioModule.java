package org.vfio4j.vfio;

import com.google.inject.PrivateModule;
import com.google.inject.Scopes;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * Guice bindings for the VFIO layer: exposes {@link Vfio} and nothing else. It binds no {@link Syscalls} key itself
 * (a private binding of a key the parent also binds is a Guice error), so it composes with vmm-core's modules:
 * either it carries its own seam ({@link #VfioModule()}, {@link #VfioModule(Syscalls, Sysfs)}), or it uses the
 * {@code Syscalls} bound elsewhere in the injector ({@link #usingBoundSyscalls(Sysfs)}).
 */
public final class VfioModule extends PrivateModule {
    private final Syscalls sys;
    private final Sysfs sysfs;
    private boolean pciDevices;
    private VfioBackend backend = VfioBackend.AUTO;

    /** The real kernel and the host's sysfs. */
    public VfioModule() {
        this(Syscalls.linux(), Sysfs.host());
    }

    /** A given seam (a fake kernel in tests) and sysfs view. */
    public VfioModule(Syscalls sys, Sysfs sysfs) {
        this.sys = sys;
        this.sysfs = sysfs;
    }

    private VfioModule(Sysfs sysfs) {
        this.sys = null;
        this.sysfs = sysfs;
    }

    /** Builds {@link Vfio} on the {@code Syscalls} another module binds, with the given sysfs view. */
    public static VfioModule usingBoundSyscalls(Sysfs sysfs) {
        return new VfioModule(sysfs);
    }

    /**
     * Also binds and exposes the VM's {@link VfioContext} (one per injector, shared by all its devices; the
     * injector's user closes it after the devices and before the VM) and
     * {@link org.vfio4j.vfio.pci.VfioPciDeviceFactory}, which builds passthrough devices in that context from a host
     * address and a guest slot. The injector must then bind {@link org.vfio4j.core.Vmm} and
     * {@link org.vfio4j.pci.bus.PciHostBridge} (e.g. vmm-core's KvmModule and pci-emulation's PciEmulationModule);
     * an {@link EventLoop} bound there (EventLoopModule) serves the devices' eventfds, else the context starts one.
     */
    public VfioModule withPciDevices() {
        this.pciDevices = true;
        return this;
    }

    /**
     * Which VFIO interface the context uses (with {@link #withPciDevices()}): {@link VfioBackend#AUTO} (the default)
     * takes iommufd and device cdevs when the kernel has them, else the legacy container.
     */
    public VfioModule backend(VfioBackend backend) {
        this.backend = java.util.Objects.requireNonNull(backend, "backend");
        return this;
    }

    @Override
    protected void configure() {
        if (pciDevices) {
            bind(VfioContext.class).toProvider(new ContextProvider(backend)).in(Scopes.SINGLETON);
            expose(VfioContext.class);
            bind(org.vfio4j.vfio.pci.VfioPciDeviceFactory.class).in(Scopes.SINGLETON);
            expose(org.vfio4j.vfio.pci.VfioPciDeviceFactory.class);
        }
        if (sys != null) {
            bind(Vfio.class).toInstance(new Vfio(sys, sysfs));
        } else {
            bind(Vfio.class).toProvider(new FromInjector(sysfs)).in(Scopes.SINGLETON);
        }
        expose(Vfio.class);
    }

    /** Makes the VM's context from the injector's {@code Vfio}, {@code Vmm} and (if bound) {@code EventLoop}. */
    private static final class ContextProvider implements Provider<VfioContext> {
        private final VfioBackend backend;
        @Inject
        private Vfio vfio;
        @Inject
        private Vmm vmm;
        @com.google.inject.Inject(optional = true)
        private EventLoop loop;

        ContextProvider(VfioBackend backend) {
            this.backend = backend;
        }

        @Override
        public VfioContext get() {
            return VfioContext.create(vfio, vmm, backend, loop);
        }
    }

    /** Makes a {@link Vfio} from the injector's {@code Syscalls}. */
    private static final class FromInjector implements Provider<Vfio> {
        private final Sysfs sysfs;
        @Inject
        private Syscalls sys;

        FromInjector(Sysfs sysfs) {
            this.sysfs = sysfs;
        }

        @Override
        public Vfio get() {
            return new Vfio(sys, sysfs);
        }
    }
}
