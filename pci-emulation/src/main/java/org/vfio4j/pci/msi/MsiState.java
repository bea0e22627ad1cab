package org.vfio4j.pci.msi;

import org.vfio4j.core.irq.MsiMessage;

/**
 * What the guest programmed into an MSI capability.
 *
 * @param enabled        MSI enable bit
 * @param address        message address (upper half zero for a 32-bit capability)
 * @param data           message data as programmed (16 bits)
 * @param enabledVectors vectors the function may use: 2^(multiple message enable), capped at what it supports
 * @param maskBits       per-vector mask bits (0 when per-vector masking is not implemented)
 */
public record MsiState(boolean enabled, long address, int data, int enabledVectors, int maskBits) {

    /**
     * The message vector {@code vector} sends: with multiple messages the function puts the vector number in the
     * low bits of the data that the enabled count leaves to it.
     */
    public MsiMessage message(int vector) {
        int low = enabledVectors - 1;
        return new MsiMessage(address, (data & ~low) | (vector & low));
    }

    /** True when vector {@code vector} is masked. */
    public boolean masked(int vector) {
        return (maskBits >>> vector & 1) != 0;
    }
}
