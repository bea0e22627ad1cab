package org.vfio4j.examples.linux;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.vfio4j.refvmm.linux.LinuxMachine;
import org.vfio4j.refvmm.linux.LinuxVmConfig;
import org.vfio4j.refvmm.linux.devices.PowerPorts;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vfio4j-linux}: the Linux reference VMM on the command line. Boots a bzImage with an optional initrd on KVM,
 * with host PCI functions bound to vfio-pci passed through, streams the guest's serial console to standard output
 * (and a log file if asked) and exits with the guest's status.
 */
@Command(name = "vfio4j-linux", mixinStandardHelpOptions = true, version = "vfio4j-linux 0.1.0",
        description = "Boots a Linux kernel on KVM with host PCI functions passed through by vfio4j.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:the guest powered off, or wrote status 0 to port 0x501",
            "N:the guest wrote status N (1-255) to port 0x501",
            "2:usage error or bad input (not a bzImage, missing initrd, device not bound to vfio-pci, ...)",
            "3:the guest did not end the VM (vCPU failure, reset or the time limit)"})
public final class LinuxVmm implements Callable<Integer> {
    @Option(names = "--kernel", required = true, description = "the bzImage (64-bit, boot protocol 2.12+)")
    Path kernel;

    @Option(names = "--initrd", description = "the initramfs")
    Path initrd;

    @Option(names = "--cmdline", description = "the kernel command line (default: ${DEFAULT-VALUE})")
    String cmdline = "console=ttyS0";

    @Option(names = "--ram-mib", description = "guest RAM in MiB (default ${DEFAULT-VALUE})")
    long ramMib = 512;

    @Option(names = "--vcpus", description = "vCPUs (default ${DEFAULT-VALUE})")
    int vcpus = 1;

    @Option(names = "--device", description = "a host PCI function bound to vfio-pci (BDF or sysfs path); "
            + "repeatable, placed at guest slots 1, 2, ...")
    List<String> devices = new ArrayList<>();

    @Option(names = "--console-log", description = "also write the guest console to this file")
    Path consoleLog;

    @Option(names = "--time-limit", description = "seconds until the VMM gives up on the guest (default "
            + "${DEFAULT-VALUE})")
    long limitSeconds = 600;

    @Override
    public Integer call() throws Exception {
        LinuxVmConfig.Builder b = LinuxVmConfig.builder(kernel).commandLine(cmdline).ramMiB(ramMib).vcpus(vcpus)
                .echoConsole(true);
        if (initrd != null) {
            b.initrd(initrd);
        }
        if (consoleLog != null) {
            b.consoleLog(consoleLog);
        }
        devices.forEach(b::device);
        LinuxVmConfig config;
        LinuxMachine machine;
        try {
            config = b.build();
            machine = LinuxMachine.create(config);
        } catch (IllegalArgumentException e) {
            System.err.println("vfio4j-linux: " + e.getMessage());
            return 2;
        }
        try (machine) {
            LinuxMachine.Run run = machine.run(Duration.ofSeconds(limitSeconds));
            System.err.println("vfio4j-linux: " + run.why() + " after " + run.ran().toMillis() + " ms; exits "
                    + run.exits());
            if (run.ending() == null || run.ending().cause() == PowerPorts.Cause.RESET) {
                return 3;
            }
            return run.ending().status();
        }
    }

    /** Runs the command. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new LinuxVmm()).execute(args));
    }
}
