package org.vfio4j.refvmm.linux;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the Linux reference VMM boots: kernel, initrd, command line, RAM, vCPUs, the host PCI functions to pass
 * through (BDFs or sysfs paths, in guest slot order from slot 1), and where the guest console goes besides the
 * VMM's own buffer. Build with {@link #builder(Path)}.
 *
 * @param kernel a bzImage with a 64-bit entry (boot protocol 2.12 or newer)
 * @param initrd an initramfs, or empty
 * @param commandLine the kernel command line
 * @param ramBytes guest RAM, a multiple of 2 MiB
 * @param vcpus number of vCPUs (1..32)
 * @param devices host functions to attach through VFIO, each bound to vfio-pci
 * @param consoleLog a file that receives everything the guest writes to its serial port, or empty
 * @param echoConsole whether the console also goes to the VMM's standard output
 */
public record LinuxVmConfig(Path kernel, Optional<Path> initrd, String commandLine, long ramBytes, int vcpus,
        List<String> devices, Optional<Path> consoleLog, boolean echoConsole) {
    /** The least RAM this VMM boots with. */
    public static final long MIN_RAM = 32L << 20;
    /** The most vCPUs (APIC ids below the IO-APIC's; one MADT entry each). */
    public static final int MAX_VCPUS = 32;

    /** Checks the values that need no file access. */
    public LinuxVmConfig {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(commandLine, "commandLine");
        devices = List.copyOf(devices);
        Objects.requireNonNull(consoleLog, "consoleLog");
        if (ramBytes < MIN_RAM || ramBytes % (2L << 20) != 0) {
            throw new IllegalArgumentException("RAM must be a multiple of 2 MiB and at least " + (MIN_RAM >> 20)
                    + " MiB: " + ramBytes + " bytes");
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPUs must be 1.." + MAX_VCPUS + ": " + vcpus);
        }
    }

    /** A builder for booting {@code kernel}. */
    public static Builder builder(Path kernel) {
        return new Builder(kernel);
    }

    /**
     * Checks what needs the file system, before any VM exists: kernel and initrd readable. (The kernel's format,
     * the fit in RAM and the devices' drivers are checked when the machine is built, also before the VM starts.)
     *
     * @throws IllegalArgumentException naming the file and what is wrong
     */
    public void checkFiles() {
        if (!Files.isRegularFile(kernel) || !Files.isReadable(kernel)) {
            throw new IllegalArgumentException("kernel " + kernel + ": no such readable file");
        }
        initrd.ifPresent(p -> {
            if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                throw new IllegalArgumentException("initrd " + p + ": no such readable file");
            }
        });
    }

    /** Builds a {@link LinuxVmConfig}. */
    public static final class Builder {
        private final Path kernel;
        private Path initrd;
        private String commandLine = "console=ttyS0";
        private long ramBytes = 512L << 20;
        private int vcpus = 1;
        private final List<String> devices = new ArrayList<>();
        private Path consoleLog;
        private boolean echoConsole;

        private Builder(Path kernel) {
            this.kernel = kernel;
        }

        /** The initramfs (default none). */
        public Builder initrd(Path path) {
            this.initrd = path;
            return this;
        }

        /** The kernel command line (default {@code console=ttyS0}). */
        public Builder commandLine(String line) {
            this.commandLine = line;
            return this;
        }

        /** Guest RAM in MiB (default 512). */
        public Builder ramMiB(long mib) {
            this.ramBytes = mib << 20;
            return this;
        }

        /** Number of vCPUs (default 1). */
        public Builder vcpus(int n) {
            this.vcpus = n;
            return this;
        }

        /** Adds a host function (BDF or sysfs path) to pass through, at the next free guest slot. */
        public Builder device(String hostFunction) {
            devices.add(hostFunction);
            return this;
        }

        /** Also writes the console to {@code path}. */
        public Builder consoleLog(Path path) {
            this.consoleLog = path;
            return this;
        }

        /** Also echoes the console to standard output (default off). */
        public Builder echoConsole(boolean on) {
            this.echoConsole = on;
            return this;
        }

        /** The configuration. */
        public LinuxVmConfig build() {
            return new LinuxVmConfig(kernel, Optional.ofNullable(initrd), commandLine, ramBytes, vcpus, devices,
                    Optional.ofNullable(consoleLog), echoConsole);
        }
    }
}
