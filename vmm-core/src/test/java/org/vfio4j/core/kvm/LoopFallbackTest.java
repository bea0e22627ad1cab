package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.AbstractModule;
import com.google.inject.util.Modules;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.SyscallsModule;
import org.vfio4j.core.Vmm;
import org.vfio4j.core.event.EventLoop;
import org.vfio4j.core.event.EventLoopModule;
import org.vfio4j.core.event.LoopInterruptController;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.Syscalls;

/** The userspace interrupt fallback on the Netty loop, driving a real guest; and the Guice wiring. */
class LoopFallbackTest {

    @BeforeEach
    void needKvm() {
        GuestRig.assumeKvm();
    }

    @Test
    void fallbackIrqFdPulsesTheLineFromTheLoopAndSignalsResample() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                EventLoop loop = new EventLoop(1);
                EventFd trigger = EventFd.create(Syscalls.linux(), "intx trigger");
                EventFd resample = EventFd.create(Syscalls.linux(), "intx resample")) {
            InterruptController irq = new LoopInterruptController(rig.vmm.interrupts(), loop);
            assertFalse(irq.hasKernelIrqFd());
            InterruptController.IrqFdBinding b = irq.irqFd(trigger, 5, resample);
            rig.startReal(KvmGuestTest.PIC_IRQ5_GUEST);
            rig.awaitReport(0xf1);
            trigger.signal();
            assertEquals(1, rig.awaitReport(0xf4), "guest counted the interrupt injected from the loop");
            assertTrue(resample.await(20_000), "resample signalled after the pulse");
            trigger.signal();
            assertEquals(2, rig.awaitReport(0xf4));
            b.close();
        }
    }

    @Test
    void fallbackIrqFdOnAnMsiRouteSignalsTheRoutesMessage() throws Exception {
        try (GuestRig rig = new GuestRig(true);
                EventLoop loop = new EventLoop(1);
                EventFd trigger = EventFd.create(Syscalls.linux(), "msi trigger")) {
            InterruptController irq = new LoopInterruptController(rig.vmm.interrupts(), loop);
            InterruptController.MsiRoute route = irq.addMsiRoute(new MsiMessage(0xfee00000L, 0x41));
            InterruptController.IrqFdBinding b = irq.irqFd(trigger, route.gsi(), null);
            rig.startFlat32(KvmGuestTest.LAPIC_VECTOR40_GUEST);
            rig.awaitReport(0xf1);
            route.update(new MsiMessage(0xfee00000L, 0x40));
            trigger.signal();
            assertEquals(1, rig.awaitReport(0xf4), "the loop sent the route's current message");
            b.close();
            route.close();
        }
    }

    @Test
    void modulesBuildAKvmVmmAndAnEventLoopAndSyscallsCanBeOverridden() throws Exception {
        AtomicInteger opens = new AtomicInteger();
        Syscalls counting = new CountingSyscalls(Syscalls.linux(), opens);
        Injector injector = Guice.createInjector(
                Modules.override(new SyscallsModule()).with(new AbstractModule() {
                    @Override
                    protected void configure() {
                        bind(Syscalls.class).toInstance(counting);
                    }
                }),
                new KvmModule(), new EventLoopModule());
        Vmm vmm = injector.getInstance(Vmm.class);
        try (KvmVmm kvmVmm = injector.getInstance(KvmVmm.class);
                EventLoop loop = injector.getInstance(EventLoop.class)) {
            assertTrue(vmm == kvmVmm, "one VMM per injector");
            assertTrue(loop == injector.getInstance(EventLoop.class));
            assertEquals(1, opens.get(), "/dev/kvm opened through the overriding seam");
            assertTrue(vmm.interrupts().hasKernelIrqFd());
        }
    }

    /** Passes everything to the real seam, counting opens. */
    private static final class CountingSyscalls implements Syscalls {
        private final Syscalls d;
        private final AtomicInteger opens;

        CountingSyscalls(Syscalls d, AtomicInteger opens) {
            this.d = d;
            this.opens = opens;
        }

        @Override
        public int open(String path, int flags) {
            opens.incrementAndGet();
            return d.open(path, flags);
        }

        @Override
        public int close(int fd) {
            return d.close(fd);
        }

        @Override
        public int ioctl(int fd, long request, com.sun.jna.Pointer arg) {
            return d.ioctl(fd, request, arg);
        }

        @Override
        public int ioctl(int fd, long request, long arg) {
            return d.ioctl(fd, request, arg);
        }

        @Override
        public long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
            return d.mmap(addr, length, prot, flags, fd, offset);
        }

        @Override
        public int munmap(long addr, long length) {
            return d.munmap(addr, length);
        }

        @Override
        public long pread(int fd, com.sun.jna.Pointer buf, long count, long offset) {
            return d.pread(fd, buf, count, offset);
        }

        @Override
        public long pwrite(int fd, com.sun.jna.Pointer buf, long count, long offset) {
            return d.pwrite(fd, buf, count, offset);
        }

        @Override
        public int eventfd(int initialValue, int flags) {
            return d.eventfd(initialValue, flags);
        }

        @Override
        public long read(int fd, com.sun.jna.Pointer buf, long count) {
            return d.read(fd, buf, count);
        }

        @Override
        public long write(int fd, com.sun.jna.Pointer buf, long count) {
            return d.write(fd, buf, count);
        }

        @Override
        public int poll(com.sun.jna.Pointer fds, int nfds, int timeoutMillis) {
            return d.poll(fds, nfds, timeoutMillis);
        }
    }
}
