package org.vfio4j.core;

import com.google.inject.AbstractModule;
import org.vfio4j.core.sys.Syscalls;

/**
 * Binds {@link Syscalls} to the real libc seam. Tests replace it with
 * {@code Modules.override(new SyscallsModule()).with(...)} to put a fake in front of the kernel.
 */
public final class SyscallsModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(Syscalls.class).toInstance(Syscalls.linux());
    }
}
