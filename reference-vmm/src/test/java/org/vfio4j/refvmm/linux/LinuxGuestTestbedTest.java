package org.vfio4j.refvmm.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.vfio4j.refvmm.linux.devices.PowerPorts;
import org.vfio4j.refvmm.testbed.TestbedScreenshots;
import org.vfio4j.vfio.VfioContext;
import org.vfio4j.vfio.iommufd.VfioBackend;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.sysfs.Sysfs;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * The acceptance test of passthrough: the testbed's own Linux kernel, booted by the Linux reference VMM in the
 * testbed's nested KVM with edu, nvme and e1000e passed through, runs its own drivers on them, and gives the same
 * results as the same guest under QEMU's vfio-pci. Three boots in one JVM, in order:
 * <ol>
 *   <li>vfio4j, two vCPUs: firmware tables, APICs, ECAM, enumeration (ids, 4096-byte config spaces, BARs placed);
 *       nvme binds, reads the backing file's known pattern, writes 16 MiB of random data with O_DIRECT and reads it
 *       back; e1000e gets a link and exchanges 1000 link-local pings with the testbed guest over QEMU's hub; both
 *       drivers' MSI-X vectors count; the bochs DRM driver drives a passed-through bochs-display, whose screen (a
 *       screenshot from the testbed's QEMU) shows the text and colour bands the guest drew through its mapped
 *       framebuffer BAR.</li>
 *   <li>vfio4j again at once, one vCPU (the devices attach again after the first VM; nothing leaked): the nvme
 *       namespace holds what the first boot wrote.</li>
 *   <li>QEMU with {@code -device vfio-pci} on the same functions and slots: the same results, except the fields
 *       named in {@link #DIFFERING}, the same config space as the guest reads it, except the differences
 *       docs/config-space.md lists with their reasons, and the same screen.</li>
 * </ol>
 */
@Tag("testbed")
@Tag("testbed-linux-guest")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class LinuxGuestTestbedTest {
    /**
     * A hang guard per boot, not a timing check: a boot to the drivers' results takes 1.5 minutes in the testbed on
     * a quiet machine and several times that when other builds share the two cores.
     */
    private static final Duration LIMIT = Duration.ofMinutes(12);
    /** The pattern testbed/run writes into the nvme backing file's first MiB: md5 of that MiB. */
    private static final String NVME_PATTERN_MD5 = "d6cf24221c49e0204771798fbadeb1c2";
    /** Guest slots of the three functions (the VMM and the QEMU reference put them at 00:01.0, 00:02.0, 00:03.0). */
    private static final String EDU = "0000:00:01.0";
    private static final String NVME = "0000:00:02.0";
    private static final String E1000E = "0000:00:03.0";
    private static final String BOCHS = "0000:00:04.0";
    /** What the L2 guest's bochs check draws (testbed/l2/drivers.sh). */
    private static final String BOCHS_TEXT = "vfio4j: bochs-display passed through, drawn by the L2 guest";
    /**
     * Result keys that legitimately differ between the two VMMs: times, random data, addresses the firmware chose,
     * interrupt counts, the host bridge and the platform (QEMU's q35 has its own chipset functions and tables), and
     * the config-space dumps (compared byte by byte against docs/config-space.md instead).
     */
    static final Pattern DIFFERING = Pattern.compile(String.join("|",
            "l2\\.(uptime|end|mem_kib|acpi_tables|ioapic|madt_smp|cpus_possible)",
            "nvme\\.(write_md5|read_md5|\\w+_seconds|irqs)",
            "e1000e\\.(ping_rtt|rx_packets|tx_packets|irqs)",
            "pci\\.0000:00:00\\.0\\..*", "pci\\.0000:00:1f\\.\\d\\..*",
            "pci\\.[0-9a-f:.]+\\.(bars|irq|config)"));

    private static Map<String, String> first;
    private static BufferedImage vfio4jScreen;
    private static String[] hostDevices;
    private static long fdsBefore;

    @Test
    @Order(1)
    void vfio4jBootsLinuxAndItsDriversRunTheDevices() throws Exception {
        hostDevices = new String[] {TestbedDevices.bdf("edu"), TestbedDevices.bdf("nvme"),
            TestbedDevices.bdf("e1000e"), TestbedDevices.bdf("bochs-display")};
        LinuxMachine.Run run = boot(2, "boot,nvme,e1000e,bochs", true);
        vfio4jScreen = TestbedScreenshots.take("linux-bochs-vfio4j", "bochs-display");
        // The baseline for the leak check: after one whole VM, so the JVM's one-time set-up (native libraries,
        // shared threads) is already in it.
        fdsBefore = openFds();
        Map<String, String> v = run.values();
        first = v;
        // The platform.
        assertEquals("2", v.get("l2.cpus"), "vCPUs the guest brought up (INIT/SIPI through the MADT)");
        assertEquals("1", v.get("l2.madt_smp"), "the kernel used the MADT");
        assertEquals("APIC,DSDT,FACP,MCFG,RSDP,XSDT", v.get("l2.acpi_tables"));
        assertTrue(v.get("l2.ioapic").contains("address 0xfec00000, GSI 0-23"), v.get("l2.ioapic"));
        assertEquals("MMCONFIG for domain 0000 [bus 00-ff] at [mem 0xb0000000-0xbfffffff]", v.get("l2.mmconfig"),
                "ECAM in use");
        assertEquals("PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])", v.get("l2.pci_root"));
        // Enumeration: exactly the host functions, PCIe ones with their extended config space.
        String[][] expected = {{hostDevices[0], EDU, "256"}, {hostDevices[1], NVME, "4096"},
            {hostDevices[2], E1000E, "4096"}};
        for (String[] d : expected) {
            String guest = "pci." + d[1];
            assertEquals(hostAttribute(d[0], "vendor") + ":" + hostAttribute(d[0], "device"), v.get(guest + ".id"));
            assertEquals(hostAttribute(d[0], "class"), v.get(guest + ".class"));
            assertEquals(hostAttribute(d[0], "subsystem_vendor") + ":" + hostAttribute(d[0], "subsystem_device"),
                    v.get(guest + ".subsystem"));
            assertEquals(d[2], v.get(guest + ".config_size"), guest + " config space size (4096 = PCIe via ECAM)");
            assertFalse(v.getOrDefault(guest + ".bars", "").isEmpty(), guest + " has its BARs assigned");
        }
        assertEquals(List.of("0000:00:00.0", EDU, NVME, E1000E, BOCHS), functions(v), "the guest sees exactly these");
        // nvme: the driver binds, reads the pattern, writes and reads back 16 MiB with O_DIRECT.
        assertEquals("nvme", v.get("nvme.driver"), run::toString);
        assertEquals("nvme0: 2/0/0 default/read/poll queues", v.get("nvme.queues"), "one I/O queue per vCPU");
        assertEquals(NVME_PATTERN_MD5, v.get("nvme.pattern_md5"), "the backing file's first MiB");
        assertNotNull(v.get("nvme.write_md5"));
        assertEquals(v.get("nvme.write_md5"), v.get("nvme.read_md5"), "16 MiB written and read back");
        assertVectorsCount(v.get("nvme.irqs"), 3, "nvme: admin queue and two I/O queue vectors");
        // e1000e: link, 1000 pings without loss, frames really crossed the hub.
        assertEquals("e1000e", v.get("e1000e.driver"), run::toString);
        assertEquals("1", v.get("e1000e.carrier"));
        assertEquals("1000 packets transmitted, 1000 packets received", v.get("e1000e.ping"));
        assertEquals("0% packet loss", v.get("e1000e.ping_loss"));
        assertTrue(Long.parseLong(v.get("e1000e.rx_packets")) >= 1000, "frames received: " + v.get("e1000e.rx_packets"));
        assertVectorsCount(v.get("e1000e.irqs"), 2, "e1000e: rx and tx vectors");
        // bochs-display: the DRM driver drives the passed-through device; the picture is on the device's screen.
        assertEquals("bochs-drm", v.get("bochs.driver"), run::toString);
        assertEquals("1280,800 32bpp", v.get("bochs.mode"));
        assertEquals("1", v.get("bochs.drawn"));
        ScreenCheck.assertPicture(vfio4jScreen, BOCHS_TEXT);
        assertEquals("0", v.get("l2.status"), run::toString);
    }

    @Test
    @Order(2)
    void aSecondBootReadsBackWhatTheFirstWroteAndNothingLeaked() throws Exception {
        assumeTrue(first != null, "needs the first boot");
        LinuxMachine.Run run = boot(1, "boot,nvme-verify", false);
        Map<String, String> v = run.values();
        assertEquals("1", v.get("l2.cpus"));
        assertEquals("nvme0: 1/0/0 default/read/poll queues", v.get("nvme.queues"));
        assertEquals(first.get("nvme.write_md5"), v.get("nvme.readback_md5"),
                "the 16 MiB the first boot wrote are on the namespace");
        assertEquals(fdsBefore, openFds(), "file descriptors after the second VM as after the first");
    }

    @Test
    @Order(3)
    void qemuVfioPciGivesTheSameResults() throws Exception {
        assumeTrue(first != null, "needs the first boot");
        QemuLinuxRunner.Run qemu = QemuLinuxRunner.run(config(2, "boot,nvme,e1000e,bochs", true), LIMIT);
        if (qemu.status() == null && "qemu exited with 0".equals(qemu.why())) {
            // The reference run's own L2 reset itself (QEMU runs with -no-reboot, so a triple fault or reboot ends it
            // with 0), seen once in CI at 8b67d90 in the middle of the guest's checks: the same nested-SVM-under-TCG
            // failure as neverLeftReset, on QEMU's side. Booted once more, and said so.
            System.out.println("RETRY: the QEMU reference run's L2 reset before it reported; booting once more: "
                    + qemu);
            qemu = QemuLinuxRunner.run(config(2, "boot,nvme,e1000e,bochs", true), LIMIT);
        }
        assertEquals(Integer.valueOf(0), qemu.status(), qemu::toString);
        // The same guest drew the same screen through QEMU's vfio-pci, pixel for pixel.
        BufferedImage qemuScreen = TestbedScreenshots.take("linux-bochs-qemu", "bochs-display");
        ScreenCheck.assertPicture(qemuScreen, BOCHS_TEXT);
        assertEquals(List.of(), ScreenCheck.differences(vfio4jScreen, qemuScreen),
                "pixels that differ between the screens drawn through vfio4j and through QEMU vfio-pci");
        Map<String, String> q = qemu.values();
        List<String> differences = new ArrayList<>();
        for (String key : union(first, q)) {
            if (DIFFERING.matcher(key).matches()) {
                continue;
            }
            String a = first.get(key);
            String b = q.get(key);
            if (a == null || !a.equals(b)) {
                differences.add(key + ": vfio4j " + a + ", qemu " + b);
            }
        }
        assertEquals(List.of(), differences, "results that differ between vfio4j and QEMU vfio-pci");
        // The interrupt vectors are the same ones (names), whatever their counts.
        assertEquals(vectorNames(first.get("nvme.irqs")), vectorNames(q.get("nvme.irqs")));
        assertEquals(vectorNames(first.get("e1000e.irqs")), vectorNames(q.get("e1000e.irqs")));
        // Config space, byte for byte, against the documented differences.
        List<ConfigSpaceDifferences.Difference> listed = ConfigSpaceDifferences.documented(
                L2Guest.projectRoot().resolve("docs/config-space.md"));
        List<String> unexplained = new ArrayList<>();
        for (String[] f : new String[][] {{"edu", EDU}, {"nvme", NVME}, {"e1000e", E1000E}, {"bochs", BOCHS}}) {
            byte[] ours = hex(first.get("pci." + f[1] + ".config"));
            byte[] theirs = hex(q.get("pci." + f[1] + ".config"));
            unexplained.addAll(ConfigSpaceDifferences.unexplained(f[0], ours, theirs, listed));
        }
        assertEquals(List.of(), unexplained,
                "config-space bytes that differ from QEMU's and are not listed in docs/config-space.md");
    }

    private LinuxMachine.Run boot(int vcpus, String checks, boolean display) throws InterruptedException {
        LinuxMachine.Run run = bootOnce(vcpus, checks, display);
        if (neverLeftReset(run)) {
            // Seen once in 6 next-kernel MTTCG runs (CI at 34028a5): the L2 BSP sat in its reset state (rip 0xfff0,
            // cr0 0x10, two exits in 3.8 s, not one byte of console) where the VMM had put it at the kernel's 64-bit
            // entry, then triple-faulted. Not understood (the L1 is the nested-SVM-under-TCG testbed); a guest that
            // never ran one instruction of the kernel is booted once more, and said so, rather than taken for a
            // verdict on the passthrough.
            System.out.println("RETRY: the L2 vCPU never left its reset state; booting once more: " + run);
            run = bootOnce(vcpus, checks, display);
        }
        assertEquals(new PowerPorts.Ending(PowerPorts.Cause.EXIT_PORT, 0), run.ending(), run::toString);
        assertEquals("1", run.values().get("l2.booted"), run::toString);
        return run;
    }

    /** The run ended in a triple fault at the reset vector before the kernel printed anything. */
    private static boolean neverLeftReset(LinuxMachine.Run run) {
        return run.ending() == null && run.console().isBlank() && run.why() != null
                && run.why().contains("shutdown (triple fault) at rip=0xfff0 ");
    }

    private LinuxMachine.Run bootOnce(int vcpus, String checks, boolean display) throws InterruptedException {
        LinuxMachine.Run run;
        try (LinuxMachine machine = LinuxMachine.create(config(vcpus, checks, display))) {
            run = machine.run(LIMIT);
            // The VM's devices go through one VFIO context, on iommufd and cdevs where the kernel has them (the next
            // testbed kernel) and on the container elsewhere (Debian's 6.1 has no iommufd).
            VfioContext vfio = machine.devices().get(0).context();
            assertEquals(machine.devices().size(), vfio.members().size(), vfio.toString());
            boolean iommufd = "next".equals(System.getenv("VFIO4J_TESTBED_KERNEL"))
                    && !"legacy".equals(System.getProperty(VfioBackend.PROPERTY));
            assertEquals(iommufd ? VfioBackend.IOMMUFD_CDEV : VfioBackend.LEGACY_CONTAINER, vfio.backend());
            System.out.println("VFIO: " + vfio);
            if (display) {
                // The framebuffer BAR is mapped whole: the guest's pixel writes never exit to the VMM.
                BarLayout fb = machine.devices().get(3).counters().bar(0);
                assertEquals(fb.size(), fb.mappedBytes(), "bochs framebuffer BAR0 mapped: " + fb);
                assertEquals(0, fb.trappedBytes(), "nothing of the framebuffer traps: " + fb);
            }
        }
        return run;
    }

    private static LinuxVmConfig config(int vcpus, String checks, boolean display) {
        LinuxVmConfig.Builder b = LinuxVmConfig.builder(L2Guest.kernel()).initrd(L2Guest.initrd())
                .commandLine(L2Guest.commandLine(checks)).ramMiB(512).vcpus(vcpus);
        for (int i = 0; i < (display ? 4 : 3); i++) {
            b.device(hostDevices[i]);
        }
        return b.build();
    }

    private static void assertVectorsCount(String irqs, int atLeast, String what) {
        assertNotNull(irqs, what);
        int counting = 0;
        for (String v : irqs.split(",")) {
            if (!v.isEmpty() && Long.parseLong(v.substring(v.lastIndexOf(':') + 1)) > 0) {
                counting++;
            }
        }
        assertTrue(counting >= atLeast, what + ": " + irqs);
    }

    private static List<String> vectorNames(String irqs) {
        List<String> names = new ArrayList<>();
        for (String v : irqs.split(",")) {
            names.add(v.substring(0, v.lastIndexOf(':')));
        }
        return names;
    }

    private static List<String> functions(Map<String, String> v) {
        Pattern p = Pattern.compile("pci\\.([0-9a-f:.]+)\\.id");
        List<String> out = new ArrayList<>();
        for (String k : v.keySet()) {
            Matcher m = p.matcher(k);
            if (m.matches()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    private static List<String> union(Map<String, String> a, Map<String, String> b) {
        Map<String, Boolean> keys = new TreeMap<>();
        a.keySet().forEach(k -> keys.put(k, true));
        b.keySet().forEach(k -> keys.put(k, true));
        return new ArrayList<>(keys.keySet());
    }

    private static byte[] hex(String s) {
        assertNotNull(s, "no config dump");
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    private static String hostAttribute(String bdf, String attribute) throws IOException {
        return Files.readString(Sysfs.host().deviceDir(bdf).resolve(attribute)).trim();
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
