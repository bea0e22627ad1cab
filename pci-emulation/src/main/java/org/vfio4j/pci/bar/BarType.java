package org.vfio4j.pci.bar;

/** What a base address register decodes. */
public enum BarType {
    /** I/O space; 32-bit register, at most 256 bytes. */
    IO,
    /** Memory space below 4 GiB; one 32-bit register. */
    MEMORY32,
    /** Memory space anywhere in 64 bits; two consecutive registers. */
    MEMORY64;

    /** True for the two memory types. */
    public boolean isMemory() {
        return this != IO;
    }
}
