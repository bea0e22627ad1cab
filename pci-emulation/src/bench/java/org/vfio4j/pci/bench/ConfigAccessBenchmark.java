package org.vfio4j.pci.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.pci.TestFunction;
import org.vfio4j.pci.bus.EcamHandler;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.pci.config.PciRegisters;

/**
 * Throughput of guest configuration accesses (directly and through ECAM/CF8 routing) and of MSI-X table accesses.
 * Run with {@code mvn -B -pl pci-emulation -Pbench verify}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConfigAccessBenchmark {
    private TestFunction fn;
    private TrapHandler ecam;
    private TrapHandler cf8;
    private TrapHandler table;
    private long deviceBase;
    private int msiCap;
    private int i;

    /** Builds a host bridge with one fully featured function at 00:03.0. */
    @Setup
    public void setUp() {
        PciHostBridge host = new PciHostBridge();
        fn = new TestFunction("bench");
        host.rootBus().attach(3, 0, fn.config);
        ecam = new EcamHandler(host, 1);
        cf8 = host.mechanism1();
        cf8.write(0, 4, 0x8000_0000L | 3 << 11);
        table = fn.msix.tableHandler();
        deviceBase = 3L << 15;
        msiCap = fn.caps.find(PciRegisters.PCI_CAP_ID_MSI).orElseThrow().offset();
    }

    /** A dword read of the vendor/device register straight from the config space. */
    @Benchmark
    public long configReadDirect() {
        return fn.config.read(0, 4);
    }

    /** A dword write to the MSI address register (a plain RW register with a hook) straight to the config space. */
    @Benchmark
    public void configWriteDirect() {
        fn.config.write(msiCap + 4, 4, (++i) << 2);
    }

    /** A dword read through ECAM decoding, bus routing and the multi-function check. */
    @Benchmark
    public long configReadEcam() {
        return ecam.read(deviceBase + 0x08, 4);
    }

    /** A command register write through ECAM (BAR decode hooks run). */
    @Benchmark
    public void configWriteEcamCommand() {
        ecam.write(deviceBase + PciRegisters.PCI_COMMAND, 2, (++i & 1) * PciRegisters.PCI_COMMAND_MEMORY);
    }

    /** A byte read through CONFIG_DATA with the address latched. */
    @Benchmark
    public long configReadCf8() {
        return cf8.read(4 + 2, 2);
    }

    /** A dword read of an MSI-X table entry's data. */
    @Benchmark
    public long msixTableRead() {
        return table.read(((++i & 7) << 4) + 8, 4);
    }

    /** A dword write of an MSI-X table entry's data (the vector-updated check runs). */
    @Benchmark
    public void msixTableWrite() {
        int k = ++i;
        table.write(((k & 7) << 4) + 8, 4, k);
    }
}
