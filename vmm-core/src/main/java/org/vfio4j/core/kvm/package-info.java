/**
 * The KVM implementation of the vmm-core SPI. {@link org.vfio4j.core.kvm.KvmAbi} holds the uAPI layout (checked
 * against {@code <linux/kvm.h>} by a test); {@link org.vfio4j.core.kvm.Kvm}, {@link org.vfio4j.core.kvm.KvmVm} and
 * {@link org.vfio4j.core.kvm.KvmVcpu} are thin ioctl wrappers that own their fds;
 * {@link org.vfio4j.core.kvm.VcpuThread} is the run loop; {@link org.vfio4j.core.kvm.KvmVmm} assembles it all
 * into a {@link org.vfio4j.core.Vmm}.
 */
package org.vfio4j.core.kvm;
