package org.vfio4j.vfio.pci;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.vfio4j.pci.config.PciRegisters.*;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.kvm.GuestStart;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.kvm.VcpuThread;
import org.vfio4j.core.sys.Syscalls;
import org.vfio4j.core.testing.GuestCode;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.vfio.Vfio;

/**
 * D3hot on real vfio-pci (issue 15, defect 1): a guest puts nvme or e1000e in D3hot through CF8/CFC, reads its
 * directly mapped BAR0 (all-ones, and the vCPU lives, where a memslot over the zapped mmap would fail KVM_RUN with
 * EFAULT), and back in D0 reads the real value again.
 */
@Tag("testbed")
class D3hotTestbedTest {
    static final long BAR0 = 0xe0000000L;

    @Test
    void nvme() throws Exception {
        d3hotReadsAllOnesAndD0RestoresTheRealValue("nvme");
    }

    @Test
    void e1000e() throws Exception {
        d3hotReadsAllOnesAndD0RestoresTheRealValue("e1000e");
    }

    private void d3hotReadsAllOnesAndD0RestoresTheRealValue(String device) throws Exception {
        String bdf = VfioPciDeviceTestbedTest.bdf(device);
        assumeTrue(GuestCode.available(), "binutils not available");
        try (KvmVmm vmm = KvmVmm.create(Syscalls.linux(), KvmVmm.Config.defaults())) {
            vmm.guestMemory().addRam(0, 2 << 20, "low");
            PciHostBridge host = new PciHostBridge();
            VfioPciDevice dev = VfioPciDevice.attach(Vfio.host(), vmm, host.rootBus(),
                    VfioPciOptions.builder(bdf).slot(4).build());
            try {
                int pm = findCap(host, PCI_CAP_ID_PM);
                assumeTrue(pm != 0, device + " has no PM capability");
                host.rootBus().write(4, 0, 0x10, 4, BAR0);
                host.rootBus().write(4, 0, 0x14, 4, 0);
                host.rootBus().write(4, 0, 0x04, 2, PCI_COMMAND_MEMORY);
                assertFalse(dev.counters().bar(0).mapped().isEmpty(), "BAR0 is (partly) mapped");
                vmm.pioBus().register(0xcf8, 8, host.mechanism1(), "CF8/CFC");
                GuestPorts ports = GuestPorts.on(vmm.pioBus());
                long pmcsr = 0x80002000L | (pm + PCI_PM_CTRL);
                vmm.guestMemory().write(0x1000, GuestCode.assemble32(String.format("""
                        mov 0xe0000008, %%eax
                        outl %%eax, $0xf0
                        mov $0x%x, %%eax
                        mov $0xcf8, %%dx
                        outl %%eax, %%dx
                        mov $0xcfc, %%dx
                        mov $3, %%eax
                        outw %%ax, %%dx
                        mov 0xe0000008, %%eax
                        outl %%eax, $0xf1
                        mov $0xcfc, %%dx
                        xor %%eax, %%eax
                        outw %%ax, %%dx
                        mov 0xe0000008, %%eax
                        outl %%eax, $0xf2
                        1: cli
                        hlt
                        jmp 1b
                        """, pmcsr), 0x1000));
                KvmVcpu v = vmm.createVcpu(0);
                GuestStart.flat32(v, 0x1000, 0x7000);
                VcpuThread t = vmm.start(v);
                long d0 = ports.await(0xf0);
                assertNotEquals(0xFFFFFFFFL, d0, "D0: BAR0+8 answers");
                assertEquals(0xFFFFFFFFL, ports.await(0xf1), "D3hot: the BAR reads all-ones");
                long back = ports.await(0xf2);
                assertNotEquals(0xFFFFFFFFL, back, "back in D0 the device answers");
                if (device.equals("nvme")) {
                    assertEquals(d0, back, "NVMe VS register is constant");
                }
                assertFalse(t.stopped().isDone(), "the vCPU lives: " + t.stopped().getNow(null));
                t.stop();
            } finally {
                dev.detach();
            }
        }
    }

    private static int findCap(PciHostBridge host, int id) {
        int pos = (int) host.rootBus().read(4, 0, 0x34, 1);
        for (int ttl = 0; ttl < 48 && pos >= 0x40; ttl++) {
            if (host.rootBus().read(4, 0, pos, 1) == id) {
                return pos;
            }
            pos = (int) host.rootBus().read(4, 0, pos + 1, 1);
        }
        return 0;
    }
}
