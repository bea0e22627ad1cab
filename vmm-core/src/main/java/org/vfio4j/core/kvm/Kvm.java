package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.vfio4j.core.sys.Errno;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.SyscallException;
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

    /**
     * KVM_GET_SUPPORTED_CPUID: every CPUID leaf KVM can give a guest on this host, with the feature bits it can
     * virtualize. A VMM filters these (topology, features it does not emulate) before {@link KvmVcpu#setCpuid}.
     */
    public List<CpuidEntry> supportedCpuid() {
        for (int capacity = 128; ; capacity *= 2) {
            Memory buf = new Memory(KvmAbi.Sizes.CPUID2 + (long) capacity * KvmAbi.Sizes.CPUID_ENTRY2);
            buf.clear();
            buf.setInt(0, capacity);
            int r = fd.ioctlRaw(KvmAbi.KVM_GET_SUPPORTED_CPUID, buf);
            if (r == -Errno.E2BIG && capacity < 4096) {
                continue;
            }
            if (r < 0) {
                throw new SyscallException("ioctl", DEVICE, KvmAbi.KVM_GET_SUPPORTED_CPUID.name(), -r);
            }
            int n = buf.getInt(0);
            List<CpuidEntry> entries = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long at = KvmAbi.Sizes.CPUID2 + (long) i * KvmAbi.Sizes.CPUID_ENTRY2;
                entries.add(new CpuidEntry(buf.getInt(at + KvmAbi.CpuidEntry.FUNCTION),
                        buf.getInt(at + KvmAbi.CpuidEntry.INDEX), buf.getInt(at + KvmAbi.CpuidEntry.FLAGS),
                        buf.getInt(at + KvmAbi.CpuidEntry.EAX), buf.getInt(at + KvmAbi.CpuidEntry.EBX),
                        buf.getInt(at + KvmAbi.CpuidEntry.ECX), buf.getInt(at + KvmAbi.CpuidEntry.EDX)));
            }
            return entries;
        }
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
