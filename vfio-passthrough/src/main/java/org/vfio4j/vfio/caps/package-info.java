/**
 * Capability chains of VFIO INFO ioctls: the argsz re-query ({@link org.vfio4j.vfio.caps.InfoQuery}) and the one
 * defensive walker ({@link org.vfio4j.vfio.caps.CapabilityChain}) shared by device, region and IOMMU info. Decoding
 * of the individual capabilities lives with the info they belong to.
 */
package org.vfio4j.vfio.caps;
