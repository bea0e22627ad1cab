package org.vfio4j.examples.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.vfio4j.refvmm.flat.QemuGuestRunner;

/**
 * QEMU's side of the like-for-like attach row: a q35 VM with its RAM and a PCIe root port to plug into, paused
 * ({@code -S}) after start-up, then {@code device_add vfio-pci} over QMP, timed from the command's send to its
 * {@code return}. That is QEMU's vfio-pci realize in a running VM (group and container, DMA mapping of guest RAM,
 * config space and BAR set-up) plus the reset QEMU gives a hot-plugged device, against which vfio4j's
 * {@code VfioPciDevice.attach} with {@code resetOnAttach} is measured.
 */
final class QmpHotplug {
    private QmpHotplug() {
    }

    /**
     * Starts QEMU with {@code image} as its BIOS and {@code ramMib} of RAM, waits for QMP, and times
     * {@code device_add vfio-pci,host=bdf} into the root port.
     *
     * @throws IllegalStateException when QEMU refuses the device (its QMP error is in the message)
     */
    static Duration attach(byte[] image, int ramMib, String bdf) throws IOException, InterruptedException {
        return deviceAdd(image, ramMib, "vfio-pci", "\"host\":\"" + bdf + "\"");
    }

    /**
     * Times {@code device_add} of {@code driver} (with the extra JSON members {@code properties}, e.g.
     * {@code "host":"0000:01:00.0"}) into the root port of a paused q35 VM started for it, and quits QEMU.
     *
     * @throws IllegalStateException when QEMU refuses the device (its QMP error is in the message)
     */
    static Duration deviceAdd(byte[] image, int ramMib, String driver, String properties)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("vfio4j-qmp");
        Path sock = dir.resolve("qmp.sock");
        Path bios = dir.resolve("prog.bin");
        Files.write(bios, image);
        Process qemu = new ProcessBuilder(List.of(QemuGuestRunner.QEMU, "-nodefaults", "-display", "none", "-S",
                "-machine", "q35", "-accel", "kvm", "-m", Integer.toString(ramMib), "-bios", bios.toString(),
                "-device", "pcie-root-port,id=hp0,chassis=20", "-qmp", "unix:" + sock + ",server=on,wait=off"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
        try (SocketChannel qmp = connect(sock, qemu)) {
            Reader in = new Reader(qmp);
            in.reply(); // the greeting
            send(qmp, "{\"execute\":\"qmp_capabilities\"}");
            in.reply();
            String add = "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"" + driver + "\","
                    + (properties.isEmpty() ? "" : properties + ",") + "\"bus\":\"hp0\",\"id\":\"dev0\"}}";
            long start = System.nanoTime();
            send(qmp, add);
            String reply = in.reply();
            long took = System.nanoTime() - start;
            if (!reply.contains("\"return\"")) {
                throw new IllegalStateException("QEMU " + add + ": " + reply);
            }
            return Duration.ofNanos(took);
        } finally {
            qemu.destroy(); // SIGTERM: QEMU shuts down as for "quit"
            if (!qemu.waitFor(30, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor();
            }
            deleteQuietly(dir);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }

    private static SocketChannel connect(Path sock, Process qemu) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (true) {
            if (Files.exists(sock)) {
                SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.connect(UnixDomainSocketAddress.of(sock));
                    return ch;
                } catch (IOException e) {
                    ch.close();
                }
            }
            if (!qemu.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("QEMU's QMP socket " + sock + " never answered (QEMU "
                        + (qemu.isAlive() ? "still running" : "exited with " + qemu.exitValue()) + ")");
            }
            Thread.sleep(5);
        }
    }

    private static void send(SocketChannel ch, String json) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** QMP's replies, one JSON object a line; asynchronous events ({@code "event"}) are skipped. */
    private static final class Reader {
        private final SocketChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        private final StringBuilder pending = new StringBuilder();

        Reader(SocketChannel ch) {
            this.ch = ch;
        }

        String reply() throws IOException {
            while (true) {
                int nl = pending.indexOf("\n");
                if (nl >= 0) {
                    String line = pending.substring(0, nl).trim();
                    pending.delete(0, nl + 1);
                    boolean event = line.contains("\"event\"") && !line.contains("\"return\"")
                            && !line.contains("\"error\"");
                    if (!line.isEmpty() && !event) {
                        return line;
                    }
                    continue;
                }
                buf.clear();
                if (ch.read(buf) < 0) {
                    throw new UncheckedIOException(new IOException("QMP closed the connection"));
                }
                buf.flip();
                pending.append(StandardCharsets.UTF_8.decode(buf));
            }
        }
    }
}
