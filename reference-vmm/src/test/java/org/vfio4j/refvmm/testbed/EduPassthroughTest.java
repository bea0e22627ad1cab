package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.pci.InterruptMode;
import org.vfio4j.vfio.pci.UserspaceDelivery;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * QEMU's edu device passed through to a KVM guest inside the testbed, driven by the {@code edu} guest program
 * (src/test/resources/guest/edu.s) that enumerates PCI, places BAR0, and then: reads the identification register
 * through the mmapped BAR, runs the factorial, DMAs a page from guest RAM into edu and back through the IOMMU, and
 * takes edu's MSI in its handler; last it turns memory decode off and moves BAR0. The program runs once; each test
 * checks one part of what it reported.
 */
@Tag("testbed")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EduPassthroughTest {
    static final long RAM = 16L << 20;
    static final int EDU_ID = 0x010000ed;
    private static final int DMA_BYTES = 2048;
    private static final long DST_BUF = 0x200000;
    private static final long SRC_BUF = 0x100000;
    private static final long MOVED_BAR = 0xe0800000L;
    static final long ID_READS = 1000;

    private PassthroughSession session;
    private GuestMachine.GuestRun run;

    @BeforeAll
    void runTheEduProgram() throws Exception {
        session = PassthroughSession.run(TestbedDevices.bdf("edu"), "edu", Map.of("ID_READS", ID_READS), RAM,
                Duration.ofMinutes(5));
        run = session.guest();
        System.out.println(run);
        System.out.println(session.counters());
    }

    @AfterAll
    void detach() {
        if (session != null) {
            session.close();
        }
    }

    @Test
    void theProgramRanToItsEnd() {
        assertTrue(run.succeeded(), run.toString());
    }

    @Test
    void idRegisterReadsThroughTheMappedBarWithZeroMmioExits() {
        assertEquals(EDU_ID, run.value("edu.id"), run.toString());
        assertEquals(0, run.value("edu.id.changed"), "every one of the reads saw the id");
        assertEquals(0, run.exitsBetween("mark.id.start", "mark.id.end", KvmAbi.Exit.MMIO),
                ID_READS + " reads of the id register must not leave the guest; " + run);
        BarLayout bar0 = session.counters().bar(0);
        assertNotNull(bar0, session.counters().toString());
        assertTrue(bar0.decoding(), bar0.toString());
        assertEquals(bar0.size(), bar0.mappedBytes(), "edu's BAR0 is mmappable as a whole: " + bar0);
        assertEquals(0, bar0.trappedReads() + bar0.trappedWrites(), "no BAR0 access trapped: " + bar0);
        assertEquals(0, run.result("edu.fact5").exits(KvmAbi.Exit.name(KvmAbi.Exit.MMIO)),
                "id, factorial, DMA and MSI made no MMIO exit at all: " + run);
    }

    @Test
    void factorialAndLivenessAnswer() {
        assertEquals(~0x12345678 & 0xffffffffL, run.value("edu.live"), run.toString());
        assertTrue(run.value("fact.polls.left") > 0, "the factorial finished");
        assertEquals(3628800, run.value("edu.fact"), "10!");
    }

    @Test
    void dmaRoundTripsAPageThroughTheIommu() {
        assertTrue(run.value("dma.to.polls.left") > 0, "RAM -> edu DMA finished; " + run);
        assertTrue(run.value("dma.from.polls.left") > 0, "edu -> RAM DMA finished; " + run);
        assertEquals(0, run.value("dma.mismatches"), run.toString());
        // Independently of the guest's own comparison: what edu wrote into guest RAM is the guest's pattern.
        byte[] expected = pattern(DMA_BYTES / 4);
        assertArrayEquals(expected, session.machine().vmm().guestMemory().read(SRC_BUF, DMA_BYTES), "source");
        assertArrayEquals(expected, session.machine().vmm().guestMemory().read(DST_BUF, DMA_BYTES),
                "destination written by edu's DMA engine");
        assertEquals(session.machine().ramBytes(), session.counters().dmaMappedBytes(), "all guest RAM is DMA-mapped");
    }

    @Test
    void msiLandsInTheGuestHandlerThroughIrqfd() {
        assertTrue(run.value("msi.cap") != 0, "edu has an MSI capability");
        assertEquals(1, run.value("irq.count"), run.toString());
        assertEquals(0xbeef, run.value("irq.status"), "the handler saw the raised status");
        assertEquals(0, run.value("irq.status.after.ack"), "and acknowledged it");
        assertEquals(2, run.value("irq.count2"), "the factorial-done interrupt arrived too");
        assertEquals(1, run.value("irq.status2"), "edu's factorial interrupt status");
        assertEquals(120, run.value("edu.fact5"));
        assertEquals(InterruptMode.MSI, session.interruptMode());
        assertTrue(session.counters().kernelRoutedVectors() >= 1,
                "the vector went through a KVM route and irqfd: " + session.counters());
        assertEquals(0L, session.counters().userspaceInterrupts(UserspaceDelivery.MSI),
                "no MSI took the userspace path: " + session.counters());
    }

    @Test
    void decodeOffAndBarMoveRemapTheBar() {
        assertEquals(0xffffffffL, run.value("decode.off.read"), "with memory decode off the BAR is gone; " + run);
        assertEquals(1, run.exitsBetween("edu.fact5", "decode.off.read", KvmAbi.Exit.MMIO),
                "that read trapped (nothing mapped there any more) and got the master-abort answer");
        assertEquals(MOVED_BAR, run.value("moved.bar0"));
        assertEquals(EDU_ID, run.value("moved.id"), "the id at the new address");
        assertEquals(0, run.value("moved.id.changed"));
        assertEquals(0, run.exitsBetween("mark.moved.start", "mark.moved.end", KvmAbi.Exit.MMIO),
                "the moved BAR is mapped again: " + run);
        assertEquals(0xffffffffL, run.value("moved.old.read"), "nothing is left at the old address");
        assertEquals(1, run.exitsBetween("mark.moved.end", "moved.old.read", KvmAbi.Exit.MMIO));
        BarLayout bar0 = session.counters().bar(0);
        assertEquals(MOVED_BAR, bar0.guestAddress(), bar0.toString());
        assertTrue(bar0.decoding(), bar0.toString());
        assertEquals(bar0.size(), bar0.mappedBytes(), bar0.toString());
        assertEquals(0, bar0.trappedReads() + bar0.trappedWrites(), bar0.toString());
    }

    /** The guest's fill_pattern: dword i = (i * 0x9e3779b1) ^ 0x5a5a5a5a, little-endian. */
    static byte[] pattern(int dwords) {
        ByteBuffer b = ByteBuffer.allocate(dwords * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < dwords; i++) {
            b.putInt((i * 0x9e3779b1) ^ 0x5a5a5a5a);
        }
        return b.array();
    }
}
