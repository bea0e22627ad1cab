package org.vfio4j.refvmm.flat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.kvm.Kvm;
import org.vfio4j.core.sys.FileDescriptor;
import org.vfio4j.core.sys.Linux;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.ConfigPassthrough;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.msix.MsixCapability;
import org.vfio4j.vfio.region.RegionInfo;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.uapi.VfioConstants;

/**
 * The trapped exit path allocates nothing on the vCPU thread in steady state, measured on this host's /dev/kvm with a
 * 32-bit guest: KVM_RUN, the exit decoded from kvm_run, the trap bus, the handler and, for the kinds that reach a
 * device, a pread on a file descriptor through {@link VfioRegion} (a regular file stands in for the VFIO device fd:
 * the same syscall, the same code). The guest ({@code alloc.s}) writes a mark to the VMM request port between
 * windows of N accesses; the VMM reads the vCPU thread's allocation counter ({@code ThreadMXBean}) at each mark.
 */
class ExitPathAllocationTest {
    private static final int N = 20_000;
    private static final int WINDOWS = 6;
    private static final int IO_PORT = 0x6000;
    private static final long MSIX_TABLE = 0xd000_0000L;
    private static final String[] KINDS = {"", "host bridge config read (CF8/CFC)",
        "passed-through config read (CF8/CFC + pread)", "ECAM read (MMIO)", "port read forwarded to a region (pread)",
        "MSI-X table write while disabled (MMIO)"};

    @Test
    void trappedAccessesAllocateNothingOnTheVcpuThread(@TempDir Path dir) throws Exception {
        assumeTrue(Kvm.available(), "/dev/kvm not available");
        assumeTrue(GuestCode.available(), "binutils (as/ld/objcopy) not available");
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported(), "no per-thread allocation counter in this JVM");
        mx.setThreadAllocatedMemoryEnabled(true);

        byte[] device = new byte[4096];
        device[0x40] = 0x5a;
        device[0x41] = 0x4b;
        device[0x100] = 0x21;
        device[0x103] = 0x7f;
        Path file = dir.resolve("device");
        Files.write(file, device);
        Syscalls sys = Syscalls.linux();
        try (GuestMachine m = new GuestMachine(sys, 16L << 20);
                FileDescriptor fd = FileDescriptor.open(sys, file.toString(), Linux.O_RDWR)) {
            VfioRegion region = new VfioRegion(fd, new RegionInfo(VfioConstants.VFIO_PCI_CONFIG_REGION_INDEX,
                    VfioConstants.VFIO_REGION_INFO_FLAG_READ | VfioConstants.VFIO_REGION_INFO_FLAG_WRITE,
                    device.length, 0, List.of(), List.of()));
            ConfigSpace function = ConfigSpace.copyOf("file-backed function", java.util.Arrays.copyOf(device, 256));
            function.setEmulatedRange(0x40, 4, false);
            function.setPassthrough(new ConfigPassthrough() {
                @Override
                public long read(int offset, int size) {
                    return region.read(offset, size);
                }

                @Override
                public void write(int offset, int size, long value, long passMask) {
                    region.write(offset, size, value);
                }
            });
            m.pciBus().attach(3, 0, function);
            m.pioBus().register(IO_PORT, 4, new TrapHandler() {
                @Override
                public long read(long offset, int size) {
                    return region.read(0x100 + offset, size);
                }

                @Override
                public void write(long offset, int size, long value) {
                    region.write(0x100 + offset, size, value);
                }
            }, "file-backed port");
            MsixCapability msix = new MsixCapability(4, 0, 0, 0, 0x100, message -> { });
            m.vmm().mmioBus().register(MSIX_TABLE, msix.tableBytes(), msix.tableHandler(), "msix table");
            long[] marks = new long[256];
            m.onRequest(code -> marks[code] = mx.getCurrentThreadAllocatedBytes());
            m.load(GuestImage.build("alloc", Map.of("N", (long) N, "WINDOWS", (long) WINDOWS,
                    "IO_PORT", (long) IO_PORT, "MSIX_TABLE", MSIX_TABLE)));
            GuestMachine.GuestRun run = m.run(Duration.ofMinutes(5));
            assertTrue(run.succeeded(), run.toString());

            assertEquals(PciHostBridge.DEFAULT_IDENTITY.vendorId()
                    | (long) PciHostBridge.DEFAULT_IDENTITY.deviceId() << 16, run.value("kind1.value"));
            assertEquals(0x4b5aL, run.value("kind2.value"), "the passed-through register came from the file");
            assertEquals(run.value("kind1.value"), run.value("kind3.value"));
            assertEquals(0x7f000021L, run.value("kind4.value"), "the port read came from the file");
            assertEquals(0x4321, msix.message(0).data(), "the table writes reached the table");

            List<String> report = new ArrayList<>();
            for (int kind = 1; kind <= 5; kind++) {
                long least = Long.MAX_VALUE;
                List<Long> windows = new ArrayList<>();
                for (int w = 0; w < WINDOWS; w++) {
                    int next = w + 1 < WINDOWS ? (kind << 4) | (w + 1) : (kind << 4) | 0xf;
                    long bytes = marks[next] - marks[(kind << 4) | w];
                    windows.add(bytes);
                    if (w >= 2) { // the first windows run while the JIT compiles the path
                        least = Math.min(least, bytes);
                    }
                }
                report.add(KINDS[kind] + ": " + windows + " bytes per window of " + N);
                assertEquals(0, least, () -> "bytes allocated on the vCPU thread per window of " + N
                        + " trapped accesses, by kind:\n" + String.join("\n", report));
            }
            System.out.println("ExitPathAllocationTest: bytes allocated on the vCPU thread per window of " + N
                    + " trapped accesses:\n  " + String.join("\n  ", report));
        }
    }
}
