package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.irq.InterruptController;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.core.memory.DeviceMemorySlot;
import org.vfio4j.core.memory.GuestMemory;
import org.vfio4j.core.memory.RamRegion;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.MemoryMapping;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;

/** Resource ownership and error reporting of the KVM backend on this host's /dev/kvm. */
class KvmLifecycleTest {

    @BeforeEach
    void needKvm() {
        GuestRig.assumeKvm();
    }

    private static long openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static long vcpuThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("vcpu-") && t.isAlive()).count();
    }

    @Test
    void closingReleasesEveryFdAndThread() throws Exception {
        // Warm up classes and the kick handler so lazily opened JVM/JNA fds are not counted.
        try (GuestRig warm = new GuestRig(true)) {
            warm.startReal("out %al, $0xf0\n1: hlt\njmp 1b\n");
            warm.awaitReport(0xf0);
        }
        long fdsBefore = openFds();
        long threadsBefore = vcpuThreads();
        try (EventFd trigger = EventFd.create(Syscalls.linux(), "t");
                EventFd resample = EventFd.create(Syscalls.linux(), "r");
                EventFd doorbell = EventFd.create(Syscalls.linux(), "d");
                MemoryMapping bar = MemoryMapping.anonymous(Syscalls.linux(), 8192, "bar")) {
            long withEventFds = openFds();
            GuestRig rig = new GuestRig(true);
            rig.vmm.interrupts().irqFd(trigger, 5, resample);
            InterruptController.MsiRoute route = rig.vmm.interrupts().addMsiRoute(new MsiMessage(0xfee00000L, 0x30));
            rig.vmm.interrupts().irqFd(doorbell, route.gsi(), null);
            rig.vmm.vm().ioeventfd(doorbell, 0x800, 2, true, OptionalLong.empty());
            rig.vmm.deviceMemory().map(0xc0000, 8192, bar.address(), false, "bar");
            KvmVfioDevice vfio = rig.vmm.createVfioDevice();
            rig.startReal("out %al, $0xf0\n1: hlt\njmp 1b\n");
            rig.awaitReport(0xf0);
            assertEquals(threadsBefore + 1, vcpuThreads());
            assertTrue(openFds() > withEventFds + 3, "kvm, vm, vcpu and device fds are open");
            vfio.close();
            rig.close();
            rig.close();
            assertEquals(withEventFds, openFds(), "every KVM fd closed; the caller's eventfds untouched");
            assertFalse(rig.vmm.vm().isOpen());
            assertEquals(threadsBefore, vcpuThreads(), "vcpu thread joined");
        }
        assertEquals(fdsBefore, openFds());
    }

    @Test
    void memslotsAreFreedAndReusedAndTheBudgetIsReported() {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
                MemoryMapping bar = MemoryMapping.anonymous(Syscalls.linux(), 4096, "bar")) {
            int total = vmm.deviceMemory().slotsTotal();
            assertEquals(vmm.kvm().checkExtension(KvmAbi.Cap.NR_MEMSLOTS), total);
            DeviceMemorySlot a = vmm.deviceMemory().map(0x100000, 4096, bar.address(), false, "a");
            assertEquals(total - 1, vmm.deviceMemory().slotsAvailable());
            a.move(0x200000);
            assertEquals(0x200000, a.guestAddress());
            a.close();
            assertEquals(total, vmm.deviceMemory().slotsAvailable());
            DeviceMemorySlot b = vmm.deviceMemory().map(0x100000, 4096, bar.address(), false, "b");
            assertEquals(total - 1, vmm.deviceMemory().slotsAvailable());
            b.close();
        }
    }

    @Test
    void overlappingMemslotIsRejectedNamingTheIoctlAndSlot() {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
                MemoryMapping bar = MemoryMapping.anonymous(Syscalls.linux(), 8192, "bar")) {
            int total = vmm.deviceMemory().slotsTotal();
            vmm.deviceMemory().map(0x100000, 8192, bar.address(), false, "first");
            SyscallException e = assertThrows(SyscallException.class,
                    () -> vmm.deviceMemory().map(0x101000, 4096, bar.address(), false, "second"));
            assertEquals("KVM_SET_USER_MEMORY_REGION", e.request());
            assertEquals(Errno.EEXIST, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("second"), e.getMessage());
            assertEquals(total - 1, vmm.deviceMemory().slotsAvailable(), "the failed slot was returned");
        }
    }

    @Test
    void guestMemoryListenersHearAddAndRemove() throws Exception {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            StringBuilder log = new StringBuilder();
            AutoCloseable l = vmm.guestMemory().addListener(new GuestMemory.Listener() {
                @Override
                public void ramAdded(RamRegion region) {
                    log.append("+").append(region.name());
                }

                @Override
                public void ramRemoved(RamRegion region) {
                    log.append("-").append(region.name());
                }
            });
            RamRegion low = vmm.guestMemory().addRam(0, 0x10000, "low");
            RamRegion high = vmm.guestMemory().addRam(0x100000, 0x10000, "high");
            assertEquals(java.util.List.of(low, high), vmm.guestMemory().regions());
            assertEquals(high.hostAddress() + 0x10, vmm.guestMemory().hostAddress(0x100010, 4));
            assertThrows(IllegalArgumentException.class, () -> vmm.guestMemory().addRam(0x8000, 0x10000, "x"));
            vmm.guestMemory().removeRam(low);
            l.close();
            vmm.guestMemory().removeRam(high);
            assertEquals("+low+high-low", log.toString());
        }
    }

    @Test
    void kvmVfioDeviceIsCreatedAndABogusGroupFdIsRefusedByName() throws Exception {
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults());
                KvmVfioDevice dev = vmm.createVfioDevice();
                EventFd notAGroup = EventFd.create(Syscalls.linux(), "not a group")) {
            SyscallException closed = assertThrows(SyscallException.class, () -> dev.addGroup(99999));
            assertEquals("KVM_SET_DEVICE_ATTR", closed.request());
            assertEquals(Errno.EBADF, closed.errno(), closed.getMessage());
            assertTrue(closed.getMessage().contains("KVM_DEV_VFIO_GROUP_ADD group fd 99999"), closed.getMessage());
            SyscallException wrongKind = assertThrows(SyscallException.class, () -> dev.addGroup(notAGroup.fd()));
            assertEquals("KVM_SET_DEVICE_ATTR", wrongKind.request());
            System.out.println("KVM-VFIO add of an eventfd: " + wrongKind.getMessage());
            SyscallException del = assertThrows(SyscallException.class, () -> dev.removeGroup(99999));
            assertEquals(Errno.EBADF, del.errno(), del.getMessage());
        }
    }

    @Test
    void apiAndCapabilitiesAreReported() {
        try (Kvm kvm = Kvm.open(Syscalls.linux())) {
            assertTrue(kvm.vcpuMmapSize() >= 4096);
            assertTrue(kvm.checkExtension(KvmAbi.Cap.IRQFD) > 0);
            assertTrue(kvm.checkExtension(KvmAbi.Cap.IOEVENTFD) > 0);
            assertTrue(kvm.checkExtension(KvmAbi.Cap.SIGNAL_MSI) > 0);
            assertTrue(kvm.checkExtension(KvmAbi.Cap.IMMEDIATE_EXIT) > 0);
            assertTrue(kvm.checkExtension(KvmAbi.Cap.NR_MEMSLOTS) > 0);
        }
    }
}
