package org.vfio4j.core.kvm;

import com.sun.jna.Memory;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.SyscallException;

/**
 * The KVM-VFIO pseudo device (KVM_DEV_TYPE_VFIO). Telling KVM which VFIO groups the VM uses lets it handle
 * non-coherent DMA (WBINVD) and hand the group to architecture code. vfio-passthrough calls {@link #addGroup} with
 * its group fd after attaching the group, and {@link #removeGroup} before releasing it. Installed headers (Linux 6.1)
 * name the attribute group KVM_DEV_VFIO_GROUP; newer kernels (6.6+) call the same values KVM_DEV_VFIO_FILE and also
 * accept a VFIO device cdev fd there ({@link #addFile}), which is how the iommufd backend registers its devices.
 */
public final class KvmVfioDevice implements AutoCloseable {
    private final FileDescriptor fd;

    private KvmVfioDevice(FileDescriptor fd) {
        this.fd = fd;
    }

    /** KVM_CREATE_DEVICE with KVM_DEV_TYPE_VFIO on {@code vm}. */
    public static KvmVfioDevice create(KvmVm vm) {
        return new KvmVfioDevice(vm.createDevice(KvmAbi.KVM_DEV_TYPE_VFIO, "kvm-vfio device of " + vm.fd().name()));
    }

    /** KVM_DEV_VFIO_GROUP_ADD: the VM now uses the VFIO group open as {@code groupFd}. */
    public void addGroup(int groupFd) {
        setAttr(KvmAbi.KVM_DEV_VFIO_GROUP_ADD, groupFd, "KVM_DEV_VFIO_GROUP_ADD group fd");
    }

    /** KVM_DEV_VFIO_GROUP_DEL: the VM no longer uses the group. */
    public void removeGroup(int groupFd) {
        setAttr(KvmAbi.KVM_DEV_VFIO_GROUP_DEL, groupFd, "KVM_DEV_VFIO_GROUP_DEL group fd");
    }

    /**
     * KVM_DEV_VFIO_FILE_ADD (the same attribute as GROUP_ADD, renamed in Linux 6.6): the VM now uses the VFIO file
     * open as {@code fileFd}, a group fd or a device cdev fd.
     */
    public void addFile(int fileFd) {
        setAttr(KvmAbi.KVM_DEV_VFIO_GROUP_ADD, fileFd, "KVM_DEV_VFIO_FILE_ADD fd");
    }

    /** KVM_DEV_VFIO_FILE_DEL (alias of GROUP_DEL): the VM no longer uses the VFIO file. */
    public void removeFile(int fileFd) {
        setAttr(KvmAbi.KVM_DEV_VFIO_GROUP_DEL, fileFd, "KVM_DEV_VFIO_FILE_DEL fd");
    }

    private void setAttr(int attr, int groupFd, String what) {
        Memory value = new Memory(4);
        value.setInt(0, groupFd);
        Memory arg = new Memory(KvmAbi.Sizes.DEVICE_ATTR);
        arg.clear();
        arg.setInt(KvmAbi.Device.ATTR_GROUP, KvmAbi.KVM_DEV_VFIO_GROUP);
        arg.setLong(KvmAbi.Device.ATTR_ATTR, attr);
        arg.setPointer(KvmAbi.Device.ATTR_ADDR, value);
        int r = fd.ioctlRaw(KvmAbi.KVM_SET_DEVICE_ATTR, arg);
        if (r < 0) {
            throw new SyscallException("ioctl", fd.name(), KvmAbi.KVM_SET_DEVICE_ATTR.name(), -r,
                    what + " " + groupFd);
        }
    }

    /** The device fd. */
    public FileDescriptor fd() {
        return fd;
    }

    /** Closes the device fd (KVM keeps the device itself until the VM goes). Idempotent. */
    @Override
    public void close() {
        fd.close();
    }
}
