/**
 * The native layer: one seam ({@link org.vfio4j.core.sys.Syscalls}) through which every system call of vfio4j passes,
 * its JNA direct-mapped Linux implementation, and the small owners of native resources built on it
 * ({@link org.vfio4j.core.sys.FileDescriptor}, {@link org.vfio4j.core.sys.MemoryMapping},
 * {@link org.vfio4j.core.sys.EventFd}).
 *
 * <p>The seam follows the kernel's own return convention: a result {@code >= 0} on success and {@code -errno} on
 * failure. That keeps fakes honest (they answer exactly what the kernel would) and leaves the naming of the failure
 * to the owner, which knows the path, the device and the ioctl it acted on.
 */
package org.vfio4j.core.sys;
