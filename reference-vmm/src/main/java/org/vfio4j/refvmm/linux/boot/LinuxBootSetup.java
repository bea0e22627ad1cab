package org.vfio4j.refvmm.linux.boot;

import java.util.List;
import org.vfio4j.core.memory.E820Entry;

/**
 * Where {@link LinuxLoader#load} put everything and how the boot vCPU must start: RIP = {@code entryRip}, RSI =
 * {@code bootParamsAddress}, the system registers of {@code registers}, interrupts off (RFLAGS 0x2), the other
 * general registers zero.
 *
 * @param entryRip the 64-bit entry point: kernel load address + 0x200
 * @param bootParamsAddress the zero page's address, for RSI
 * @param registers CR0/CR3/CR4/EFER, GDT and segments for long mode
 * @param e820 the memory map written into the zero page
 * @param kernelAddress where the protected-mode kernel was copied
 * @param kernelEnd the end of the RAM the kernel may use while it starts (load address + {@code init_size})
 * @param initrdAddress where the initrd was copied (page aligned); 0 without initrd
 * @param initrdSize the initrd's size; 0 without initrd
 * @param commandLineAddress where the NUL-terminated command line was written
 * @param commandLineLength the command line's length in bytes, without the NUL
 */
public record LinuxBootSetup(long entryRip, long bootParamsAddress, LongModeRegisters registers, List<E820Entry> e820,
        long kernelAddress, long kernelEnd, long initrdAddress, long initrdSize, long commandLineAddress,
        long commandLineLength) {

    /** Copies the map. */
    public LinuxBootSetup {
        e820 = List.copyOf(e820);
    }

    /** The value for RSI: the zero page's address. */
    public long rsi() {
        return bootParamsAddress;
    }
}
