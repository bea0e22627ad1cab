package org.vfio4j.core.sys;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Guest RAM is mapped as QEMU maps it: private, 2 MiB aligned, advised for huge pages and kept out of forks. Checked
 * in the kernel's own account of the mapping (/proc/self/smaps: its range and VmFlags {@code hg} for MADV_HUGEPAGE,
 * {@code dc} for MADV_DONTFORK).
 */
class GuestRamMappingTest {

    @Test
    void guestRamIsAlignedAdvisedAndPrivate() throws Exception {
        long size = 6L << 20;
        try (MemoryMapping ram = MemoryMapping.guestRam(Syscalls.linux(), size, "guest RAM test")) {
            assertEquals(0, ram.address() % Linux.HUGE_PAGE_SIZE, "2 MiB aligned");
            ram.pointer().setLong(size - 8, 0x1234_5678_9abcL); // the last byte is inside the mapping
            List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
            String header = String.format("%x-%x ", ram.address(), ram.address() + size);
            int at = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith(header)) {
                    at = i;
                }
            }
            assertTrue(at >= 0, "one mapping of exactly the guest RAM's range (nothing of the alignment left)");
            assertTrue(lines.get(at).split("\\s+")[1].endsWith("p"), "private: " + lines.get(at));
            String flags = null;
            for (int i = at + 1; i < lines.size() && flags == null; i++) {
                if (lines.get(i).startsWith("VmFlags:")) {
                    flags = lines.get(i);
                }
            }
            assertNotNull(flags);
            assertTrue(flags.contains(" hg"), "MADV_HUGEPAGE: " + flags);
            assertTrue(flags.contains(" dc"), "MADV_DONTFORK: " + flags);
        }
    }

    @Test
    void smallGuestRamNeedsNoHugePageAlignment() {
        try (MemoryMapping ram = MemoryMapping.guestRam(Syscalls.linux(), 64 << 10, "small")) {
            assertEquals(0, ram.address() % Linux.PAGE_SIZE);
            ram.pointer().setByte((64 << 10) - 1, (byte) 1);
        }
    }
}
