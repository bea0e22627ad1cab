package org.vfio4j.vfio.igd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfio4j.core.bus.TrapHandler;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.vfio.pci.VfioPciDevice;

/**
 * What a guest driver does first, done by real guest code on KVM: find the OpRegion through ASLS with configuration
 * mechanism #1, read its header and VBT from RAM, look at the host and LPC bridges' ids and the stolen-memory
 * registers, and write a mailbox field.
 */
class IgdGuestTest {
    @TempDir
    Path tmp;

    /** Ports 0xf0..0xff: each guest {@code out} is queued. */
    private static final class Ports implements TrapHandler {
        final BlockingQueue<long[]> q = new LinkedBlockingQueue<>();

        @Override
        public long read(long offset, int size) {
            return TrapHandler.allOnes(size);
        }

        @Override
        public void write(long offset, int size, long value) {
            q.add(new long[] {0xf0 + offset, value});
        }

        long next(int port) throws InterruptedException {
            long[] r = q.poll(20, TimeUnit.SECONDS);
            assertNotNull(r, "guest sent nothing to port 0x" + Integer.toHexString(port));
            assertEquals(port, r[0], "report order");
            return r[1];
        }
    }

    @Test
    void guestFindsTheOpRegionThroughAslsAndSeesTheHostsBridges() throws Exception {
        assumeTrue(GuestCode.available(), "binutils not available");
        try (IgdRig rig = new IgdRig(tmp); VfioPciDevice dev = rig.attach()) {
            IgdAttachTest.assertAt0002(dev);
            rig.kvm.pioBus().register(0xcf8, 8, rig.host.mechanism1(), "pci config");
            Ports ports = new Ports();
            rig.kvm.pioBus().register(0xf0, 16, ports, "reports");
            rig.kvm.guestMemory().write(0x1000, GuestCode.assemble32("""
                    .macro cfgread addr
                    mov $\\addr, %eax
                    mov $0xcf8, %dx
                    outl %eax, %dx
                    mov $0xcfc, %dx
                    inl %dx, %eax
                    .endm
                    cfgread 0x800010fc      # 00:02.0 ASLS
                    mov %eax, %esi
                    outl %eax, $0xf0
                    mov (%esi), %eax        # "Inte"
                    outl %eax, $0xf1
                    mov 0x10(%esi), %eax    # size in KiB
                    outl %eax, $0xf2
                    mov 0x400(%esi), %eax   # mailbox 4: "$VBT"
                    outl %eax, $0xf3
                    cfgread 0x8000f800      # 00:1f.0 vendor/device
                    outl %eax, $0xf4
                    cfgread 0x8000f808      # 00:1f.0 class/revision
                    outl %eax, $0xf5
                    cfgread 0x80000000      # 00:00.0 vendor/device
                    outl %eax, $0xf6
                    cfgread 0x80001050      # 00:02.0 GMCH
                    outl %eax, $0xf7
                    cfgread 0x8000105c      # 00:02.0 BDSM
                    outl %eax, $0xf8
                    mov $0x800010fc, %eax   # try to move ASLS
                    mov $0xcf8, %dx
                    outl %eax, %dx
                    mov $0x12345000, %eax
                    mov $0xcfc, %dx
                    outl %eax, %dx
                    cfgread 0x800010fc
                    outl %eax, $0xf9
                    movl $0x00000003, 0x104(%esi)   # mailbox 1 CSTS: the driver writes its status
                    mov $1, %eax
                    outl %eax, $0xfa
                    1: cli
                    hlt
                    jmp 1b
                    """, 0x1000));
            KvmVcpu vcpu = rig.kvm.createVcpu(0);
            GuestStart.flat32(vcpu, 0x1000, 0x7000);
            VcpuThread t = rig.kvm.start(vcpu);

            long asls = ports.next(0xf0);
            assertEquals(rig.cfgRead(2, 0, IgdGeneration.ASLS, 4), asls);
            assertEquals(le("Inte"), ports.next(0xf1));
            assertEquals(8, ports.next(0xf2));
            assertEquals(le("$VBT"), ports.next(0xf3));
            assertEquals(0x8086 | (long) IgdRig.LPC_ID << 16, ports.next(0xf4));
            assertEquals(0x06010010L, ports.next(0xf5));
            assertEquals(0x8086 | (long) IgdRig.HOST_BRIDGE_ID << 16, ports.next(0xf6));
            assertEquals(IgdRig.GMCH, ports.next(0xf7) & 0xffff);
            long bdsm = ports.next(0xf8);
            assertEquals(rig.reservations().reserved().stream()
                    .filter(r -> r.owner().endsWith("stolen memory")).findFirst().orElseThrow().guestAddress() | 1,
                    bdsm);
            assertEquals(asls, ports.next(0xf9), "ASLS did not move");
            assertEquals(1, ports.next(0xfa));
            byte[] csts = rig.kvm.guestMemory().read(asls + 0x104, 4);
            assertEquals(3, ByteBuffer.wrap(csts).order(ByteOrder.LITTLE_ENDIAN).getInt(),
                    "the copy is RAM: the driver's mailbox write is kept");
            assertEquals(0, rig.region(9).buffer().getInt(0x104), "and never reaches the host OpRegion");
            assertEquals(0, t.exitCount(KvmAbi.Exit.MMIO), "reading the OpRegion copy costs no exit");
            assertEquals(IgdRig.HOST_ASLS, rig.config.buffer().getInt(IgdGeneration.ASLS));
        }
    }

    private static long le(String four) {
        byte[] b = four.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (long) (b[3] & 0xff) << 24;
    }
}
