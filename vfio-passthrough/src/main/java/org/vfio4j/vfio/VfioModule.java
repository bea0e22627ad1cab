package org.vfio4j.vfio;

import com.google.inject.PrivateModule;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.vfio.sysfs.Sysfs;

/**
 * Guice bindings for the VFIO layer. Private, so its {@link Syscalls} and {@link Sysfs} don't clash with bindings of
 * other modules; only {@link Vfio} is exposed.
 */
public final class VfioModule extends PrivateModule {
    private final Syscalls sys;
    private final Sysfs sysfs;

    /** The real kernel and the host's sysfs. */
    public VfioModule() {
        this(Syscalls.linux(), Sysfs.host());
    }

    /** A given seam (a fake kernel in tests) and sysfs view. */
    public VfioModule(Syscalls sys, Sysfs sysfs) {
        this.sys = sys;
        this.sysfs = sysfs;
    }

    @Override
    protected void configure() {
        bind(Syscalls.class).toInstance(sys);
        bind(Sysfs.class).toInstance(sysfs);
        bind(Vfio.class);
        expose(Vfio.class);
    }
}
