/**
 * Exceptions of the VFIO layer for refusals this library decides itself; failed system calls surface as
 * {@link org.vfio4j.core.sys.SyscallException}. A package of its own so every capability package can use them without
 * depending on the top-level package.
 */
package org.vfio4j.vfio.errors;
