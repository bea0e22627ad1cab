package org.vfio4j.refvmm.flat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link GuestImage} under QEMU the way the benchmark of issue 8 does ({@code -bios prog.bin}), with
 * isa-debugcon on 0x402 written to a file and isa-debug-exit on 0x501, so results can be compared with the same
 * program under {@link GuestMachine}. The devices are whatever arguments the caller gives: emulated models on a
 * build host, {@code -device vfio-pci,host=...} in the testbed.
 */
public final class QemuGuestRunner {
    /** The QEMU binary. */
    public static final String QEMU = "qemu-system-x86_64";

    private QemuGuestRunner() {
    }

    /** True when {@value #QEMU} runs. */
    public static boolean available() {
        try {
            Process p = new ProcessBuilder(QEMU, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Runs {@code image} on a q35 machine with {@code memoryMib} of RAM.
     *
     * @param accel {@code tcg} or {@code kvm}
     * @param deviceArgs QEMU arguments that add the devices
     * @param limit hang guard: QEMU is killed after it
     * @return the run; the exit code is the program's (isa-debug-exit makes QEMU exit with {@code code * 2 + 1}),
     *     null when QEMU ended otherwise; the exit counts are empty (QEMU doesn't report them)
     */
    public static GuestMachine.GuestRun run(byte[] image, String accel, int memoryMib, List<String> deviceArgs,
            Duration limit) throws InterruptedException {
        return runTimed(image, accel, memoryMib, deviceArgs, limit).run();
    }

    /**
     * A QEMU run with its start-up time.
     *
     * @param run how it ended, with the output
     * @param toFirstOutput from just before the QEMU process was started to the moment its debugcon file was seen
     *     non-empty (polled every millisecond): process start, machine and device set-up (for vfio-pci: group,
     *     container, DMA mapping of guest RAM, BAR mappings), and the guest's first instructions up to its first
     *     character; null when the guest printed nothing
     */
    public record TimedRun(GuestMachine.GuestRun run, Duration toFirstOutput) {
    }

    /** As {@link #run}, also measuring the time to the guest's first output ({@link TimedRun}). */
    public static TimedRun runTimed(byte[] image, String accel, int memoryMib, List<String> deviceArgs,
            Duration limit) throws InterruptedException {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("vfio4j-qemu");
            Path bios = dir.resolve("prog.bin");
            Path debugcon = dir.resolve("debugcon.log");
            Files.write(bios, image);
            List<String> cmd = new ArrayList<>(List.of(QEMU, "-nodefaults", "-nographic", "-display", "none",
                    "-machine", "q35", "-accel", accel, "-m", Integer.toString(memoryMib), "-bios", bios.toString(),
                    "-chardev", "file,id=debugcon,path=" + debugcon,
                    "-device", "isa-debugcon,iobase=0x" + Integer.toHexString(GuestMachine.DEBUGCON_PORT)
                            + ",chardev=debugcon",
                    "-device", "isa-debug-exit,iobase=0x" + Integer.toHexString(GuestMachine.EXIT_PORT)
                            + ",iosize=1"));
            cmd.addAll(deviceArgs);
            long start = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log")
                    .toFile()).start();
            Duration firstOutput = null;
            long deadline = start + limit.toNanos();
            while (firstOutput == null && p.isAlive() && System.nanoTime() < deadline) {
                if (Files.exists(debugcon) && Files.size(debugcon) > 0) {
                    firstOutput = Duration.ofNanos(System.nanoTime() - start);
                } else {
                    Thread.sleep(1);
                }
            }
            Integer code = null;
            String ending;
            long left = Math.max(0, deadline - System.nanoTime());
            if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
                p.destroyForcibly().waitFor();
                ending = "qemu killed after " + limit;
            } else if ((p.exitValue() & 1) == 1 && p.exitValue() > 1) {
                code = p.exitValue() >> 1;
                ending = "exit port";
            } else {
                ending = "qemu exited with " + p.exitValue() + ": "
                        + Files.readString(dir.resolve("qemu.log"), StandardCharsets.UTF_8);
            }
            String text = Files.exists(debugcon) ? Files.readString(debugcon, StandardCharsets.US_ASCII) : "";
            if (code == null && text.contains("exit=0x00000000\n") && p.exitValue() == 1) {
                code = 0; // isa-debug-exit with 0 gives 1, which QEMU also uses for its own errors
                ending = "exit port";
            }
            return new TimedRun(new GuestMachine.GuestRun(code, ending + " (" + String.join(" ", cmd) + ")", text,
                    GuestOutput.parse(text), Map.of()), firstOutput);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            GuestImage.deleteQuietly(dir);
        }
    }
}
