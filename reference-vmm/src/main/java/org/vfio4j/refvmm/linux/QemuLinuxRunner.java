package org.vfio4j.refvmm.linux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The reference the Linux VMM is compared with: the same kernel, initrd and command line booted by QEMU with KVM and
 * the same host functions assigned with {@code vfio-pci} at the same guest slots (00:01.0, 00:02.0, ...), on q35,
 * with an isa-debug-exit on port 0x501 so the L2 guest ends QEMU the same way. {@code -cpu max}: in the testbed's
 * nested KVM, {@code -cpu host} does not boot.
 */
public final class QemuLinuxRunner {
    /** The QEMU binary. */
    public static final String QEMU = "qemu-system-x86_64";

    private QemuLinuxRunner() {
    }

    /** The QEMU command line for {@code config}. */
    public static List<String> commandLine(LinuxVmConfig config) {
        List<String> cmd = new ArrayList<>(List.of(QEMU, "-accel", "kvm", "-cpu", "max", "-machine", "q35",
                "-m", Long.toString(config.ramBytes() >> 20), "-smp", Integer.toString(config.vcpus()),
                "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none",
                "-kernel", config.kernel().toString(), "-append", config.commandLine(),
                "-device", "isa-debug-exit,iobase=0x501,iosize=1"));
        config.initrd().ifPresent(p -> cmd.addAll(List.of("-initrd", p.toString())));
        for (int i = 0; i < config.devices().size(); i++) {
            cmd.addAll(List.of("-device", "vfio-pci,host=" + config.devices().get(i) + ",bus=pcie.0,addr="
                    + Integer.toHexString(LinuxLayout.FIRST_DEVICE_SLOT + i) + ".0"));
        }
        return cmd;
    }

    /**
     * Boots {@code config} under QEMU and waits for it to end ({@code limit} is a hang guard: QEMU is killed after
     * it).
     */
    public static Run run(LinuxVmConfig config, Duration limit) throws IOException, InterruptedException {
        List<String> cmd = commandLine(config);
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.ISO_8859_1))) {
                for (String l; (l = r.readLine()) != null; ) {
                    String line = l.replace("\r", "");
                    synchronized (lines) {
                        lines.add(line);
                        text.append(line).append('\n');
                    }
                    if (config.echoConsole()) {
                        System.out.println(line);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "qemu-console");
        reader.setDaemon(true);
        reader.start();
        String why;
        Integer status = null;
        if (p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            int code = p.exitValue();
            // isa-debug-exit: QEMU exits with (status << 1) | 1.
            if ((code & 1) == 1) {
                status = code >> 1;
                why = "exit port";
            } else {
                why = "qemu exited with " + code;
            }
        } else {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            why = "no exit within " + limit;
        }
        reader.join(10_000);
        Duration ran = Duration.ofNanos(System.nanoTime() - start);
        synchronized (lines) {
            return new Run(status, why, ran, text.toString(), List.copyOf(lines), cmd);
        }
    }

    /**
     * A QEMU run.
     *
     * @param status the guest's exit-port status, or null when it did not write one
     * @param why how it ended
     * @param ran from process start to exit
     * @param console everything QEMU and the guest printed
     * @param lines the same, by line
     * @param commandLine the QEMU command
     */
    public record Run(Integer status, String why, Duration ran, String console, List<String> lines,
            List<String> commandLine) {
        /** The guest's {@code key=value} lines. */
        public Map<String, String> values() {
            return KeyValues.parse(lines);
        }

        @Override
        public String toString() {
            return "qemu run ended (" + why + ", after " + ran.toMillis() + " ms): " + String.join(" ", commandLine)
                    + "\n" + console;
        }
    }
}
