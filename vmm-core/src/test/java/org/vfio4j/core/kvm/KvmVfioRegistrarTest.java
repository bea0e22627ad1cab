package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;
import org.vfio4j.core.DeviceEvents;
import org.vfio4j.core.VfioGroupRegistrar;
import org.vfio4j.core.sys.EventFd;
import org.vfio4j.core.sys.SyscallException;
import org.vfio4j.core.sys.Syscalls;

/**
 * The SPI hooks KvmVmm offers passthrough devices: KVM-VFIO group registration (created on first use) and device
 * events. A real VFIO group needs /dev/vfio, which this host lacks; KVM's answer to a file that is not a group proves
 * the ioctl reaches the KVM-VFIO device and that the error names it.
 */
class KvmVfioRegistrarTest {

    @Test
    void registrarReachesTheKvmVfioDeviceAndNamesTheIoctlWhenKvmRefuses() {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        Syscalls sys = Syscalls.linux();
        try (KvmVmm vmm = KvmVmm.create(sys, KvmVmm.Config.defaults());
                EventFd notAGroup = EventFd.create(sys, "not a vfio group")) {
            VfioGroupRegistrar registrar = vmm.vfioGroupRegistrar().orElseThrow();
            SyscallException e = assertThrows(SyscallException.class,
                    () -> registrar.addGroup(notAGroup.fd(), "eventfd"));
            assertTrue(e.getMessage().contains("KVM_SET_DEVICE_ATTR"), e.getMessage());
            assertTrue(e.getMessage().contains("KVM_DEV_VFIO_GROUP_ADD"), e.getMessage());
            vmm.close();
            assertThrows(IllegalStateException.class, () -> registrar.addGroup(notAGroup.fd(), "late"));
        }
    }

    @Test
    void deviceEventsDefaultToReleaseAndStopOnErrorAndCanBeReplaced() {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            boolean[] released = new boolean[1];
            vmm.deviceEvents().unplugRequested("dev", () -> released[0] = true);
            assertTrue(released[0], "the default releases at once");
            assertNull(vmm.stopReason());
            vmm.deviceEvents().deviceError("dev", "AER");
            assertEquals("dev: AER", vmm.stopReason(), "the default stops the guest on an uncorrectable error");
            DeviceEvents mine = new DeviceEvents() {
                @Override
                public void unplugRequested(String device, Runnable release) {
                }

                @Override
                public void deviceError(String device, String detail) {
                }
            };
            vmm.setDeviceEvents(mine);
            assertSame(mine, vmm.deviceEvents());
        }
    }
}
