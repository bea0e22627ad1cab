package org.vfio4j.examples.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.VfioPciOptions;

/**
 * The child process of {@code vfio4j-bench}'s start-up-from-exec row: a fresh JVM that creates a {@link GuestMachine},
 * attaches the devices given, runs the image, and prints {@link System#nanoTime()} at the guest's first output byte.
 * On Linux HotSpot's {@code nanoTime} is {@code CLOCK_MONOTONIC}, which every process on the machine shares, so the
 * parent subtracts its own {@code nanoTime} from just before the exec.
 *
 * <p>Arguments: the image file, then {@code name=BDF} for each device (names as {@link VfioBench} uses them).
 */
public final class BenchStartup {
    private BenchStartup() {
    }

    /** The line prefix the parent looks for. */
    static final String FIRST_OUTPUT = "first-output-nanotime=";
    /** Printed with the nanoTime at which {@code main} began (JVM start-up done). */
    static final String MAIN_ENTERED = "main-entered-nanotime=";
    /** Printed with the nanoTime at which the machine existed (KVM VM, RAM, the Guice modules' objects). */
    static final String MACHINE_CREATED = "machine-created-nanotime=";
    /** Printed with the nanoTime at which the devices were attached and the image loaded. */
    static final String DEVICES_ATTACHED = "devices-attached-nanotime=";

    /** Runs the image once; exit status 0 when the guest reached its exit port with 0. */
    public static void main(String[] args) throws Exception {
        long entered = System.nanoTime();
        byte[] image = Files.readAllBytes(Path.of(args[0]));
        boolean ok;
        long first;
        long created;
        long attached;
        try (GuestMachine m = GuestMachine.create((long) VfioBench.RAM_MIB << 20)) {
            created = System.nanoTime();
            for (int i = 1; i < args.length; i++) {
                String[] nameBdf = args[i].split("=", 2);
                m.attach(VfioPciOptions.builder(nameBdf[1]).slot(VfioBench.slot(nameBdf[0])).build());
            }
            m.load(image);
            attached = System.nanoTime();
            GuestMachine.GuestRun run = m.run(Duration.ofMinutes(5));
            ok = run.succeeded();
            first = m.output().firstWriteNanos();
            if (!ok) {
                System.out.println("run failed: " + run);
            }
        }
        System.out.println(MAIN_ENTERED + entered);
        System.out.println(MACHINE_CREATED + created);
        System.out.println(DEVICES_ATTACHED + attached);
        System.out.println(FIRST_OUTPUT + first);
        System.out.flush();
        System.exit(ok ? 0 : 1);
    }
}
