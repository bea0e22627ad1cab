package org.vfio4j.refvmm.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.vfio4j.refvmm.flat.GuestMachine;
import org.vfio4j.vfio.pci.BarLayout;
import org.vfio4j.vfio.pci.InterruptMode;
import org.vfio4j.vfio.testing.TestbedDevices;

/**
 * QEMU's e1000e passed through, driven by the {@code e1000e} guest program: registers read through the mapped
 * BAR0 and through the trapped I/O BAR's IOADDR/IODATA window must agree, and the option ROM is readable through
 * the ROM BAR; then two MSI-X vectors, fired by software-set interrupt causes, each reach their own guest vector.
 */
@Tag("testbed")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class E1000ePassthroughTest {
    private static final long RAM = 4L << 20;
    private static final int IO_BAR = 2;
    private static final int ROM = 6;

    private PassthroughSession session;
    private GuestMachine.GuestRun run;

    @BeforeAll
    void runTheE1000eProgram() throws Exception {
        session = PassthroughSession.run(TestbedDevices.bdf("e1000e"), "e1000e", Map.of(), RAM, Duration.ofMinutes(5));
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
    void ioBarAccessesAreTrappedAndForwarded() {
        assertEquals(0x08, run.value("io.ioaddr"), "IOADDR reads back the register offset; " + run);
        assertNotEquals(0xffffffffL, run.value("mmio.status"), run.toString());
        assertEquals(run.value("mmio.status"), run.value("io.status"), "STATUS through BAR0 and through I/O");
        assertEquals(run.value("mmio.ral0"), run.value("io.ral0"), "receive address low");
        assertEquals(run.value("mmio.rah0"), run.value("io.rah0"), "receive address high");
        assertNotEquals(0, run.value("io.ral0"), "QEMU gives the NIC a MAC address");
        BarLayout io = session.counters().bar(IO_BAR);
        assertNotNull(io, session.counters().toString());
        assertTrue(io.io(), io.toString());
        assertEquals(run.value("bar" + IO_BAR), io.guestAddress());
        assertEquals(0, io.mappedBytes(), "an I/O BAR is never mapped: " + io);
        assertTrue(io.trappedReads() >= 4 && io.trappedWrites() >= 3, "1 IOADDR + 3 IODATA reads, 3 IOADDR writes: "
                + io);
    }

    @Test
    void twoMsixVectorsEachArriveOnTheirOwnGuestVector() {
        assertEquals(1, run.value("msix.irq.count1"), run.toString());
        assertEquals(1, run.value("msix.v50.count1"), "RXQ0 cause -> MSI-X vector 0 -> guest vector 0x50");
        assertEquals(0, run.value("msix.v51.count1"));
        assertEquals(2, run.value("msix.irq.count2"));
        assertEquals(1, run.value("msix.v50.count2"));
        assertEquals(1, run.value("msix.v51.count2"), "RXQ1 cause -> MSI-X vector 1 -> guest vector 0x51");
        assertEquals(InterruptMode.MSIX, session.interruptMode());
        assertTrue(session.counters().kernelRoutedVectors() >= 2,
                "each vector enabled with its own KVM route and irqfd: " + session.counters());
    }

    @Test
    void theRomIsReadableThroughTheRomBar() {
        assertEquals(0xaa55, run.value("rom.sig"), run.toString());
        assertTrue(run.value("rom.blocks") > 0, "the ROM header gives its size in 512-byte blocks");
        BarLayout rom = session.counters().bar(ROM);
        assertNotNull(rom, session.counters().toString());
        assertEquals(run.value("rom"), rom.guestAddress());
    }
}
