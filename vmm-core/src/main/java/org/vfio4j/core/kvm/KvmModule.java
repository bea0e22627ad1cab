package org.vfio4j.core.kvm;

import com.google.inject.PrivateModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.sys.Syscalls;

/**
 * Binds the KVM implementation of the {@link Vmm} SPI. Install it next to a module that binds {@link Syscalls}
 * (normally {@link org.vfio4j.core.SyscallsModule}). Exposes {@link Vmm} and {@link KvmVmm}; the injector's user
 * closes the {@link KvmVmm} when done.
 */
public final class KvmModule extends PrivateModule {
    private final KvmVmm.Config config;

    /** With the in-kernel irqchip. */
    public KvmModule() {
        this(KvmVmm.Config.defaults());
    }

    /** With {@code config}. */
    public KvmModule(KvmVmm.Config config) {
        this.config = config;
    }

    @Override
    protected void configure() {
        bind(KvmVmm.Config.class).toInstance(config);
        bind(Vmm.class).to(KvmVmm.class);
        expose(Vmm.class);
        expose(KvmVmm.class);
    }

    @Provides
    @Singleton
    KvmVmm vmm(Syscalls sys, KvmVmm.Config cfg) {
        return KvmVmm.create(sys, cfg);
    }
}
