package org.vfio4j.vfio.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;

/**
 * /dev/kvm works inside the testbed guest (kvm-amd on the SVM that TCG's {@code -cpu max} emulates), so VMM tests can
 * run a real KVM next to the VFIO devices.
 */
@Tag("testbed")
class KvmTestbedTest {
    // linux/kvm.h: KVMIO 0xAE.
    private static final Ioctl KVM_GET_API_VERSION = Ioctl.io("KVM_GET_API_VERSION", 0xAE, 0x00);
    private static final Ioctl KVM_CREATE_VM = Ioctl.io("KVM_CREATE_VM", 0xAE, 0x01);
    private static final Ioctl KVM_GET_VCPU_MMAP_SIZE = Ioctl.io("KVM_GET_VCPU_MMAP_SIZE", 0xAE, 0x04);
    private static final Ioctl KVM_CREATE_VCPU = Ioctl.io("KVM_CREATE_VCPU", 0xAE, 0x41);
    private static final int KVM_API_VERSION = 12;

    private final Syscalls sys = Syscalls.linux();

    @Test
    void kvmAnswersApiVersion12AndCreatesAVmWithAVcpu() {
        assertTrue(Files.exists(Path.of("/dev/kvm")), "/dev/kvm is missing in the guest");
        try (FileDescriptor kvm = FileDescriptor.open(sys, "/dev/kvm", Linux.O_RDWR)) {
            assertEquals(KVM_API_VERSION, kvm.ioctl(KVM_GET_API_VERSION, 0L));
            int vmFd = kvm.ioctl(KVM_CREATE_VM, 0L);
            try (FileDescriptor vm = new FileDescriptor(sys, vmFd, "kvm vm")) {
                // The VM fd is a real VM: it creates a vCPU whose kvm_run area has the size /dev/kvm announces.
                int runSize = kvm.ioctl(KVM_GET_VCPU_MMAP_SIZE, 0L);
                assertTrue(runSize >= Linux.PAGE_SIZE, "kvm_run size " + runSize);
                int vcpuFd = vm.ioctl(KVM_CREATE_VCPU, 0L);
                try (FileDescriptor vcpu = new FileDescriptor(sys, vcpuFd, "kvm vcpu 0")) {
                    vcpu.mmap(0, runSize, Linux.PROT_READ | Linux.PROT_WRITE).close();
                }
            }
        }
    }
}
