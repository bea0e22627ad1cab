/**
 * Device regions over VFIO: region info with its decoded capabilities (sparse mmap, type, MSI-X mappable), and
 * access through pread/pwrite and mmap.
 */
package org.vfio4j.vfio.region;
