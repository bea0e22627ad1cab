package org.vfio4j.refvmm.linux.boot;

/** Where the loader puts what it places: the VMM backs it with guest RAM. */
@FunctionalInterface
public interface GuestPhysicalWriter {

    /** Copies {@code bytes} to guest-physical address {@code gpa}; the whole range lies in guest RAM. */
    void write(long gpa, byte[] bytes);
}
