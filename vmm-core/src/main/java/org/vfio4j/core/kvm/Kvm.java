package org.vfio4j.core.kvm;

import java.nio.file.Files;
import java.nio.file.Path;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;

/**
 * The KVM system file, {@code /dev/kvm}: API version check, extension queries, the size of the per-vCPU
 * {@code kvm_run} mapping, and VM creation. It owns its fd; {@link #close()} is idempotent. VMs created from it stay
 * valid after it is closed (each holds its own reference in the kernel).
 */
public final class Kvm implements AutoCloseable {
    /** Where the KVM device lives. */
    public static final String DEVICE = "/dev/kvm";

    private final FileDescriptor fd;
    private final int vcpuMmapSize;

    private Kvm(FileDescriptor fd) {
        this.fd = fd;
        int version = fd.ioctl(KvmAbi.KVM_GET_API_VERSION, 0L);
        if (version != KvmAbi.API_VERSION) {
            fd.close();
            throw new IllegalStateException(DEVICE + " speaks KVM API version " + version + ", expected "
                    + KvmAbi.API_VERSION);
        }
        this.vcpuMmapSize = fd.ioctl(KvmAbi.KVM_GET_VCPU_MMAP_SIZE, 0L);
    }

    /** True when {@code /dev/kvm} exists and can be opened for reading and writing by this process. */
    public static boolean available() {
        Path p = Path.of(DEVICE);
        return Files.isReadable(p) && Files.isWritable(p);
    }

    /** Opens {@code /dev/kvm} and checks the API version. */
    public static Kvm open(Syscalls sys) {
        return new Kvm(FileDescriptor.open(sys, DEVICE, Linux.O_RDWR));
    }

    /** The seam this KVM calls through. */
    public Syscalls syscalls() {
        return fd.syscalls();
    }

    /** KVM_CHECK_EXTENSION on the system fd: 0 when unsupported, otherwise a capability-specific value. */
    public int checkExtension(int capability) {
        return fd.ioctl(KvmAbi.KVM_CHECK_EXTENSION, capability);
    }

    /** The size of each vCPU's {@code kvm_run} mapping (KVM_GET_VCPU_MMAP_SIZE). */
    public int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** Creates a VM (KVM_CREATE_VM, machine type 0). */
    public KvmVm createVm() {
        int vmFd = fd.ioctl(KvmAbi.KVM_CREATE_VM, 0L);
        return new KvmVm(this, new FileDescriptor(fd.syscalls(), vmFd, "kvm vm (fd " + vmFd + ")"));
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return fd.toString();
    }
}
