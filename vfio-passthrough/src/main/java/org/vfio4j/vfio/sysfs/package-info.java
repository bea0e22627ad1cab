/** Reading the sysfs facts VFIO depends on (IOMMU groups, bound drivers), from an injectable root. */
package org.vfio4j.vfio.sysfs;
