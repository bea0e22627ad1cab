package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.refvmm.flat.GuestImage;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.refvmm.flat.QemuGuestRunner;
import org.vfio4j.vfio.VfioContext;
import org.vfio4j.vfio.pci.VfioPciDevice;
import org.vfio4j.vfio.pci.VfioPciOptions;
import org.vfio4j.vfio.region.VfioRegion;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.reset.ResetMethod;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * Both functions of one IOMMU group in one VM, on the real kernel: the testbed's "pair" is one multi-function device
 * behind its own root port, an e1000e at function 0 and an edu at function 1, neither with ACS, so the kernel puts
 * them in one group and a secondary bus reset of the port resets both. They are attached through one
 * {@link VfioContext} (the machine's), which opens the group once and maps guest RAM once.
 */
@Tag("testbed")
class SharedGroupTestbedTest {
    private static final long RAM = 16L << 20;
    private static final Duration LIMIT = Duration.ofMinutes(5);
    /** e1000e's IVAR register: 0 after reset; the e1000e program routes both RX queues through it (0x98). */
    private static final int E1000E_IVAR = 0xe4;
    private static final int E1000E_STATUS = 0x08;
    private static final int EDU_ID = 0x00;
    private static final int EDU_LIVENESS = 0x04;

    private final String nic = TestbedDevices.bdf("pair-nic");
    private final String edu = TestbedDevices.bdf("pair-edu");

    @Test
    void theTwoFunctionsAreOneIommuGroup() throws IOException {
        int group = TestbedDevices.iommuGroup(nic);
        assertEquals(group, TestbedDevices.iommuGroup(edu));
        Set<String> members = new TreeSet<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/kernel/iommu_groups/" + group + "/devices"))) {
            s.forEach(p -> members.add(p.getFileName().toString()));
        }
        assertEquals(new TreeSet<>(List.of(nic, edu)), members, "group " + group);
    }

    @Test
    void eachFunctionRunsItsProgramWithItsSiblingAttachedToTheSameVm() throws Exception {
        GuestMachine.GuestRun e1000e = runWithBoth("e1000e", Map.of());
        assertTrue(e1000e.succeeded(), e1000e.toString());
        assertNotEquals(0xffffffffL, e1000e.value("mmio.status"), e1000e.toString());
        assertEquals(1, e1000e.value("msix.v50.count1"), "MSI-X vector 0 reached the guest; " + e1000e);
        assertEquals(1, e1000e.value("msix.v51.count2"), "MSI-X vector 1 reached the guest; " + e1000e);

        GuestMachine.GuestRun eduRun = runWithBoth("edu", Map.of("ID_READS", 100L));
        assertTrue(eduRun.succeeded(), eduRun.toString());
        assertEquals(0x010000edL, eduRun.value("edu.id"), eduRun.toString());
        assertEquals(3628800, eduRun.value("edu.fact"), "10!");
        assertEquals(0, eduRun.value("dma.mismatches"), "DMA through the shared mapping; " + eduRun);
        assertTrue(eduRun.value("irq.count") > 0, "edu's MSI reached the guest; " + eduRun);
    }

    private GuestMachine.GuestRun runWithBoth(String program, Map<String, Long> symbols) throws Exception {
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            m.attach(VfioPciOptions.builder(nic).slot(4).build());
            m.attach(VfioPciOptions.builder(edu).slot(5).build());
            m.load(GuestImage.build(program, symbols));
            GuestMachine.GuestRun run = m.run(LIMIT);
            System.out.println(run);
            return run;
        }
    }

    @Test
    void guestRamIsPinnedAndMappedOnceForBothFunctions() {
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            long before = pinnedKib();
            VfioPciDevice a = m.attach(VfioPciOptions.builder(nic).slot(4).build()).device();
            long one = pinnedKib();
            long availableOne = a.dmaAvailable().orElse(-1);
            VfioPciDevice b = m.attach(VfioPciOptions.builder(edu).slot(5).build()).device();
            long two = pinnedKib();
            System.out.printf("VmLck+VmPin: %d kB before, %d kB with one function, %d kB with two (%s)%n", before,
                    one, two, a.context());
            assertTrue(one - before >= m.ramBytes() / 1024, "one function pins guest RAM: " + before + " -> " + one);
            assertEquals(one, two, "the second function of the VM pins nothing more");
            assertEquals(availableOne, b.dmaAvailable().orElse(-1), "DMA-available: the same mappings serve both");
            assertEquals(m.ramBytes(), b.counters().dmaMappedBytes());
            assertEquals(a.context(), b.context());
        }
    }

    @Test
    void hotResetThroughTheContextResetsBothFunctionsAndBothWorkAfterwards() throws Exception {
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            VfioPciDevice a = m.attach(VfioPciOptions.builder(nic).slot(4).build()).device();
            m.attach(VfioPciOptions.builder(edu).slot(5).build());
            m.load(GuestImage.build("e1000e", Map.of()));
            GuestMachine.GuestRun run = m.run(LIMIT);
            assertTrue(run.succeeded(), run.toString());
            m.stop();
            VfioContext ctx = a.context();
            VfioContext.Member nicMember = ctx.member(nic).orElseThrow();
            VfioContext.Member eduMember = ctx.member(edu).orElseThrow();
            VfioRegion nicBar0 = nicMember.device().region(0);
            VfioRegion eduBar0 = eduMember.device().region(0);
            placeEduBar(m);
            assertEquals(0x98, nicBar0.read(E1000E_IVAR, 4), "the guest program routed both RX queues in IVAR");
            eduBar0.write(EDU_LIVENESS, 4, 0x0f0f0f0fL);

            List<String> listed = nicMember.device().hotResetInfo().devices().stream().map(DependentDevice::bdf)
                    .toList();
            assertEquals(new TreeSet<>(List.of(nic, edu)), new TreeSet<>(listed), "GET_PCI_HOT_RESET_INFO");
            List<String> covered = ctx.hotReset(nicMember).stream().map(VfioContext.Member::name).toList();
            assertEquals(List.of(nic, edu), covered);

            assertEquals(0, nicBar0.read(E1000E_IVAR, 4), "IVAR is back at its reset value: the NIC was reset");
            assertNotEquals(0xffffffffL, nicBar0.read(E1000E_STATUS, 4), "the NIC answers after the reset");
            assertEquals(0x010000edL, eduBar0.read(EDU_ID, 4), "edu answers after the reset");
            eduBar0.write(EDU_LIVENESS, 4, 0x12345678L);
            assertEquals(~0x12345678L & 0xffffffffL, eduBar0.read(EDU_LIVENESS, 4), "edu computes after the reset");
        }
    }

    /** A system reset of the VM: each function with the best method it has, and the bus reset only once. */
    @Test
    void aSystemResetResetsBothFunctions() throws Exception {
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            VfioPciDevice a = m.attach(VfioPciOptions.builder(nic).slot(4).build()).device();
            m.attach(VfioPciOptions.builder(edu).slot(5).build());
            m.load(GuestImage.build("e1000e", Map.of()));
            assertTrue(m.run(LIMIT).succeeded());
            m.stop();
            VfioContext ctx = a.context();
            VfioRegion nicBar0 = ctx.member(nic).orElseThrow().device().region(0);
            assertEquals(0x98, nicBar0.read(E1000E_IVAR, 4));
            Map<String, ResetMethod> done = ctx.resetAll();
            System.out.println("system reset: " + done);
            assertEquals(Set.of(nic, edu), done.keySet());
            assertTrue(!done.containsValue(ResetMethod.NONE), "every function was reset: " + done);
            assertEquals(0, nicBar0.read(E1000E_IVAR, 4), "the NIC is at its reset values");
            placeEduBar(m);
            assertEquals(0x010000edL, ctx.member(edu).orElseThrow().device().region(0).read(EDU_ID, 4));
        }
    }

    /**
     * A VM that owns only the NIC may still hot reset the bus: the only other function the reset affects is in the
     * NIC's own group, which the VM owns. With the container the kernel takes the group fd as proof; with iommufd it
     * counts a not-yet-bound device whose group has a device bound to the caller's iommufd as owned. Either way the
     * context covers just the NIC (the edu is no device of this VM). Refusals need a second group on the bus, which
     * this testbed has not; the fake kernel checks them ({@code VfioContextTest}).
     */
    @Test
    void aVmOwningOneFunctionOfTheGroupMayResetTheBus() {
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            VfioPciDevice a = m.attach(VfioPciOptions.builder(nic).slot(4).build()).device();
            VfioContext ctx = a.context();
            VfioContext.Member member = ctx.member(nic).orElseThrow();
            assertEquals(List.of(nic), ctx.hotReset(member).stream().map(VfioContext.Member::name).toList(),
                    ctx.backend().toString());
        }
    }

    @Test
    void detachingOneFunctionKeepsTheOtherAndTheLastLeavesNothingBehind() {
        try (GuestMachine m = new GuestMachine(Syscalls.linux(), RAM)) {
            // One cycle first: the context opens its container (or iommufd) with its first device and keeps it.
            m.attach(VfioPciOptions.builder(edu).slot(5).build()).device().detach();
            Set<String> fds = AttachDetachLifecycleTest.openFds();
            List<String> deviceMaps = vfioMappings();
            int slots = m.vmm().deviceMemory().slotsAvailable();
            long pinned = pinnedKib();

            VfioPciDevice a = m.attach(VfioPciOptions.builder(nic).slot(4).build()).device();
            VfioPciDevice b = m.attach(VfioPciOptions.builder(edu).slot(5).build()).device();
            VfioContext ctx = a.context();
            assertTrue(vfioMappings().size() > deviceMaps.size(), "the BARs are mmapped while attached: "
                    + vfioMappings());
            a.detach();
            assertTrue(b.isAttached());
            assertEquals(m.ramBytes(), ctx.guestRamMappedBytes(), "guest RAM stays mapped for the edu");
            assertTrue(pinnedKib() - pinned >= m.ramBytes() / 1024, "and pinned");
            VfioRegion bar0 = ctx.member(edu).orElseThrow().device().region(0);
            placeEduBar(m);
            bar0.write(EDU_LIVENESS, 4, 0x55aa55aaL);
            assertEquals(~0x55aa55aaL & 0xffffffffL, bar0.read(EDU_LIVENESS, 4), "the edu still works");
            b.detach();

            assertEquals(List.of(), ctx.members());
            assertEquals(0, ctx.guestRamMappedBytes());
            assertEquals(pinned, pinnedKib(), "pinned memory");
            assertEquals(slots, m.vmm().deviceMemory().slotsAvailable(), "memslots");
            assertEquals(fds, AttachDetachLifecycleTest.openFds(), "file descriptors");
            assertEquals(deviceMaps, vfioMappings(), "mmaps of VFIO device fds (BARs)");
        }
    }

    /**
     * What a guest does before it touches the edu (the e1000e program leaves it alone): place BAR0 and turn memory
     * decode on, through the VM's config space; until then vfio-pci answers BAR accesses with EIO.
     */
    private static void placeEduBar(GuestMachine m) {
        m.pciBus().write(5, 0, 0x10, 4, 0xe2000000L);
        m.pciBus().write(5, 0, 0x04, 2, 0x0006);
    }

    /** QEMU vfio-pci with the same two functions in one VM gives the guest programs the same answers. */
    @Test
    @Tag("testbed-nested-qemu")
    void theSameAssignmentUnderQemuGivesTheSameResults() throws Exception {
        assumeTrue(QemuGuestRunner.available(), QemuGuestRunner.QEMU + " not available in the testbed guest");
        List<String> keys = List.of("io.ioaddr", "io.ral0", "io.rah0", "mmio.ral0", "mmio.rah0", "msix.v50.count1",
                "msix.v51.count1", "msix.v50.count2", "msix.v51.count2");
        GuestMachine.GuestRun ours = runWithBoth("e1000e", Map.of());
        GuestMachine.GuestRun qemu = QemuGuestRunner.run(GuestImage.build("e1000e"), "kvm", 64,
                List.of("-device", "vfio-pci,host=" + nic, "-device", "vfio-pci,host=" + edu), LIMIT);
        System.out.println(qemu);
        assertTrue(ours.succeeded(), ours.toString());
        assertTrue(qemu.succeeded(), qemu.toString());
        Map<String, Long> a = new LinkedHashMap<>();
        Map<String, Long> b = new LinkedHashMap<>();
        for (String k : keys) {
            a.put(k, qemu.value(k));
            b.put(k, ours.value(k));
        }
        assertEquals(a, b, "QEMU vfio-pci (left) against vfio4j (right), both functions of group "
                + TestbedDevices.iommuGroup(nic) + " in one VM");
    }

    /** The lines of /proc/self/maps that map a VFIO device fd (its BARs), with the addresses. */
    static List<String> vfioMappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("vfio")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** VmLck + VmPin in kB: type1 accounts pinned DMA pages as locked, iommufd as pinned. */
    static long pinnedKib() {
        long kib = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmLck:") || line.startsWith("VmPin:")) {
                    kib += Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return kib;
    }
}
