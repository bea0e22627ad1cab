package org.vfio4j.core.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vfio4j.core.sys.Ioctl;
import org.vfio4j.core.testing.CProbe;

/** Every KVM constant, ioctl number and struct offset in {@link KvmAbi}, compared with linux/kvm.h through gcc. */
class KvmAbiHeaderTest {

    @Test
    void ioctlNumbersMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        for (Field f : KvmAbi.class.getFields()) {
            if (f.getType() == Ioctl.class) {
                Ioctl io = (Ioctl) f.get(null);
                assertEquals(f.getName(), io.name());
                java.put(io.name(), io.number());
            }
        }
        assertEquals(30, java.size(), "ioctls covered");
        Map<String, String> expr = new LinkedHashMap<>();
        java.keySet().forEach(k -> expr.put(k, k));
        assertEquals(java, CProbe.evaluate(List.of("linux/kvm.h"), expr));
    }

    @Test
    void constantsMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        for (Field f : KvmAbi.class.getFields()) {
            if (f.getType() == int.class && Modifier.isStatic(f.getModifiers()) && f.getName().startsWith("KVM_")) {
                java.put(f.getName(), (long) f.getInt(null));
                expr.put(f.getName(), f.getName());
            }
        }
        for (Field f : KvmAbi.Cap.class.getFields()) {
            java.put("KVM_CAP_" + f.getName(), (long) f.getInt(null));
            expr.put("KVM_CAP_" + f.getName(), "KVM_CAP_" + f.getName());
        }
        for (Field f : KvmAbi.Exit.class.getFields()) {
            if (f.getName().equals("COUNT")) {
                continue;
            }
            java.put("KVM_EXIT_" + f.getName(), (long) f.getInt(null));
            expr.put("KVM_EXIT_" + f.getName(), "KVM_EXIT_" + f.getName());
        }
        java.put("KVM_API_VERSION", (long) KvmAbi.API_VERSION);
        expr.put("KVM_API_VERSION", "KVM_API_VERSION");
        assertEquals(java, CProbe.evaluate(List.of("linux/kvm.h"), expr));
    }

    @Test
    void structLayoutsMatchTheHeader() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        put(java, expr, "sizeof(struct kvm_userspace_memory_region)", KvmAbi.Sizes.USER_MEMORY_REGION);
        put(java, expr, "sizeof(struct kvm_dirty_log)", KvmAbi.Sizes.DIRTY_LOG);
        put(java, expr, "sizeof(struct kvm_irq_level)", KvmAbi.Sizes.IRQ_LEVEL);
        put(java, expr, "sizeof(struct kvm_irq_routing)", KvmAbi.Sizes.IRQ_ROUTING);
        put(java, expr, "sizeof(struct kvm_irq_routing_entry)", KvmAbi.Sizes.IRQ_ROUTING_ENTRY);
        put(java, expr, "sizeof(struct kvm_irqfd)", KvmAbi.Sizes.IRQFD);
        put(java, expr, "sizeof(struct kvm_ioeventfd)", KvmAbi.Sizes.IOEVENTFD);
        put(java, expr, "sizeof(struct kvm_msi)", KvmAbi.Sizes.MSI);
        put(java, expr, "sizeof(struct kvm_create_device)", KvmAbi.Sizes.CREATE_DEVICE);
        put(java, expr, "sizeof(struct kvm_device_attr)", KvmAbi.Sizes.DEVICE_ATTR);
        put(java, expr, "sizeof(struct kvm_regs)", KvmAbi.Sizes.REGS);
        put(java, expr, "sizeof(struct kvm_sregs)", KvmAbi.Sizes.SREGS);
        put(java, expr, "sizeof(struct kvm_segment)", KvmAbi.Sizes.SEGMENT);
        put(java, expr, "sizeof(struct kvm_dtable)", KvmAbi.Sizes.DTABLE);
        put(java, expr, "sizeof(struct kvm_cpuid2)", KvmAbi.Sizes.CPUID2);
        put(java, expr, "sizeof(struct kvm_cpuid_entry2)", KvmAbi.Sizes.CPUID_ENTRY2);
        put(java, expr, "offsetof(struct kvm_cpuid2, entries)", KvmAbi.Sizes.CPUID2);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, function)", KvmAbi.CpuidEntry.FUNCTION);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, index)", KvmAbi.CpuidEntry.INDEX);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, flags)", KvmAbi.CpuidEntry.FLAGS);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, eax)", KvmAbi.CpuidEntry.EAX);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, ebx)", KvmAbi.CpuidEntry.EBX);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, ecx)", KvmAbi.CpuidEntry.ECX);
        put(java, expr, "offsetof(struct kvm_cpuid_entry2, edx)", KvmAbi.CpuidEntry.EDX);
        put(java, expr, "sizeof(struct kvm_pit_config)", KvmAbi.Sizes.PIT_CONFIG);
        put(java, expr, "sizeof(struct kvm_lapic_state)", KvmAbi.Sizes.LAPIC_STATE);
        put(java, expr, "sizeof(struct kvm_coalesced_mmio_zone)", KvmAbi.Sizes.COALESCED_MMIO_ZONE);
        put(java, expr, "sizeof(struct kvm_coalesced_mmio)", KvmAbi.Sizes.COALESCED_MMIO);
        put(java, expr, "sizeof(struct kvm_coalesced_mmio_ring)", KvmAbi.Sizes.COALESCED_MMIO_RING);
        // KVM_COALESCED_MMIO_MAX is written in terms of the kernel's PAGE_SIZE, which user space headers lack
        put(java, expr, "(4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio)",
                KvmAbi.COALESCED_MMIO_MAX);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio_zone, addr)", KvmAbi.Coalesced.ZONE_ADDR);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio_zone, size)", KvmAbi.Coalesced.ZONE_SIZE);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio_zone, pio)", KvmAbi.Coalesced.ZONE_PIO);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio_ring, first)", KvmAbi.Coalesced.RING_FIRST);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio_ring, last)", KvmAbi.Coalesced.RING_LAST);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio_ring, coalesced_mmio)", KvmAbi.Coalesced.RING_ENTRIES);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio, phys_addr)", KvmAbi.Coalesced.ENTRY_PHYS_ADDR);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio, len)", KvmAbi.Coalesced.ENTRY_LEN);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio, pio)", KvmAbi.Coalesced.ENTRY_PIO);
        put(java, expr, "offsetof(struct kvm_coalesced_mmio, data)", KvmAbi.Coalesced.ENTRY_DATA);
        put(java, expr, "offsetof(struct kvm_run, immediate_exit)", KvmAbi.Run.IMMEDIATE_EXIT);
        put(java, expr, "offsetof(struct kvm_run, exit_reason)", KvmAbi.Run.EXIT_REASON);
        put(java, expr, "offsetof(struct kvm_run, if_flag)", KvmAbi.Run.IF_FLAG);
        put(java, expr, "offsetof(struct kvm_run, fail_entry.hardware_entry_failure_reason)",
                KvmAbi.Run.FAIL_ENTRY_REASON);
        put(java, expr, "offsetof(struct kvm_run, fail_entry.cpu)", KvmAbi.Run.FAIL_ENTRY_CPU);
        put(java, expr, "offsetof(struct kvm_run, io.direction)", KvmAbi.Run.IO_DIRECTION);
        put(java, expr, "offsetof(struct kvm_run, io.size)", KvmAbi.Run.IO_SIZE);
        put(java, expr, "offsetof(struct kvm_run, io.port)", KvmAbi.Run.IO_PORT);
        put(java, expr, "offsetof(struct kvm_run, io.count)", KvmAbi.Run.IO_COUNT);
        put(java, expr, "offsetof(struct kvm_run, io.data_offset)", KvmAbi.Run.IO_DATA_OFFSET);
        put(java, expr, "offsetof(struct kvm_run, mmio.phys_addr)", KvmAbi.Run.MMIO_PHYS_ADDR);
        put(java, expr, "offsetof(struct kvm_run, mmio.data)", KvmAbi.Run.MMIO_DATA);
        put(java, expr, "offsetof(struct kvm_run, mmio.len)", KvmAbi.Run.MMIO_LEN);
        put(java, expr, "offsetof(struct kvm_run, mmio.is_write)", KvmAbi.Run.MMIO_IS_WRITE);
        put(java, expr, "offsetof(struct kvm_run, internal.suberror)", KvmAbi.Run.INTERNAL_SUBERROR);
        put(java, expr, "offsetof(struct kvm_run, internal.ndata)", KvmAbi.Run.INTERNAL_NDATA);
        put(java, expr, "offsetof(struct kvm_run, internal.data)", KvmAbi.Run.INTERNAL_DATA);
        put(java, expr, "offsetof(struct kvm_run, system_event.type)", KvmAbi.Run.SYSTEM_EVENT_TYPE);
        put(java, expr, "offsetof(struct kvm_userspace_memory_region, slot)", KvmAbi.MemRegion.SLOT);
        put(java, expr, "offsetof(struct kvm_userspace_memory_region, flags)", KvmAbi.MemRegion.FLAGS);
        put(java, expr, "offsetof(struct kvm_userspace_memory_region, guest_phys_addr)",
                KvmAbi.MemRegion.GUEST_PHYS_ADDR);
        put(java, expr, "offsetof(struct kvm_userspace_memory_region, memory_size)", KvmAbi.MemRegion.MEMORY_SIZE);
        put(java, expr, "offsetof(struct kvm_userspace_memory_region, userspace_addr)",
                KvmAbi.MemRegion.USERSPACE_ADDR);
        put(java, expr, "offsetof(struct kvm_dirty_log, dirty_bitmap)", 8);
        put(java, expr, "offsetof(struct kvm_irq_level, level)", 4);
        put(java, expr, "offsetof(struct kvm_irq_routing, entries)", KvmAbi.Sizes.IRQ_ROUTING);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, gsi)", KvmAbi.RoutingEntry.GSI);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, type)", KvmAbi.RoutingEntry.TYPE);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, flags)", KvmAbi.RoutingEntry.FLAGS);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, u.irqchip.irqchip)",
                KvmAbi.RoutingEntry.IRQCHIP_IRQCHIP);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, u.irqchip.pin)", KvmAbi.RoutingEntry.IRQCHIP_PIN);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, u.msi.address_lo)",
                KvmAbi.RoutingEntry.MSI_ADDRESS_LO);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, u.msi.address_hi)",
                KvmAbi.RoutingEntry.MSI_ADDRESS_HI);
        put(java, expr, "offsetof(struct kvm_irq_routing_entry, u.msi.data)", KvmAbi.RoutingEntry.MSI_DATA);
        put(java, expr, "offsetof(struct kvm_irqfd, fd)", KvmAbi.IrqFd.FD);
        put(java, expr, "offsetof(struct kvm_irqfd, gsi)", KvmAbi.IrqFd.GSI);
        put(java, expr, "offsetof(struct kvm_irqfd, flags)", KvmAbi.IrqFd.FLAGS);
        put(java, expr, "offsetof(struct kvm_irqfd, resamplefd)", KvmAbi.IrqFd.RESAMPLEFD);
        put(java, expr, "offsetof(struct kvm_ioeventfd, datamatch)", KvmAbi.IoEventFd.DATAMATCH);
        put(java, expr, "offsetof(struct kvm_ioeventfd, addr)", KvmAbi.IoEventFd.ADDR);
        put(java, expr, "offsetof(struct kvm_ioeventfd, len)", KvmAbi.IoEventFd.LEN);
        put(java, expr, "offsetof(struct kvm_ioeventfd, fd)", KvmAbi.IoEventFd.FD);
        put(java, expr, "offsetof(struct kvm_ioeventfd, flags)", KvmAbi.IoEventFd.FLAGS);
        put(java, expr, "offsetof(struct kvm_msi, address_lo)", KvmAbi.Msi.ADDRESS_LO);
        put(java, expr, "offsetof(struct kvm_msi, address_hi)", KvmAbi.Msi.ADDRESS_HI);
        put(java, expr, "offsetof(struct kvm_msi, data)", KvmAbi.Msi.DATA);
        put(java, expr, "offsetof(struct kvm_msi, flags)", KvmAbi.Msi.FLAGS);
        put(java, expr, "offsetof(struct kvm_create_device, type)", KvmAbi.Device.CREATE_TYPE);
        put(java, expr, "offsetof(struct kvm_create_device, fd)", KvmAbi.Device.CREATE_FD);
        put(java, expr, "offsetof(struct kvm_create_device, flags)", KvmAbi.Device.CREATE_FLAGS);
        put(java, expr, "offsetof(struct kvm_device_attr, flags)", KvmAbi.Device.ATTR_FLAGS);
        put(java, expr, "offsetof(struct kvm_device_attr, group)", KvmAbi.Device.ATTR_GROUP);
        put(java, expr, "offsetof(struct kvm_device_attr, attr)", KvmAbi.Device.ATTR_ATTR);
        put(java, expr, "offsetof(struct kvm_device_attr, addr)", KvmAbi.Device.ATTR_ADDR);
        String[] segs = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};
        int[] segOffsets = {KvmAbi.Sregs.CS, KvmAbi.Sregs.DS, KvmAbi.Sregs.ES, KvmAbi.Sregs.FS, KvmAbi.Sregs.GS,
            KvmAbi.Sregs.SS, KvmAbi.Sregs.TR, KvmAbi.Sregs.LDT};
        for (int i = 0; i < segs.length; i++) {
            put(java, expr, "offsetof(struct kvm_sregs, " + segs[i] + ")", segOffsets[i]);
        }
        put(java, expr, "offsetof(struct kvm_sregs, gdt)", KvmAbi.Sregs.GDT);
        put(java, expr, "offsetof(struct kvm_sregs, idt)", KvmAbi.Sregs.IDT);
        put(java, expr, "offsetof(struct kvm_sregs, cr0)", KvmAbi.Sregs.CR0);
        put(java, expr, "offsetof(struct kvm_sregs, cr2)", KvmAbi.Sregs.CR2);
        put(java, expr, "offsetof(struct kvm_sregs, cr3)", KvmAbi.Sregs.CR3);
        put(java, expr, "offsetof(struct kvm_sregs, cr4)", KvmAbi.Sregs.CR4);
        put(java, expr, "offsetof(struct kvm_sregs, cr8)", KvmAbi.Sregs.CR8);
        put(java, expr, "offsetof(struct kvm_sregs, efer)", KvmAbi.Sregs.EFER);
        put(java, expr, "offsetof(struct kvm_sregs, apic_base)", KvmAbi.Sregs.APIC_BASE);
        for (String f : new String[] {"base", "limit", "selector", "type", "present", "dpl", "db", "s", "l", "g",
            "avl", "unusable"}) {
            put(java, expr, "offsetof(struct kvm_segment, " + f + ")",
                    KvmAbi.Segment.class.getField(f.toUpperCase()).getInt(null));
        }
        put(java, expr, "offsetof(struct kvm_dtable, base)", KvmAbi.DTable.BASE);
        put(java, expr, "offsetof(struct kvm_dtable, limit)", KvmAbi.DTable.LIMIT);
        for (String f : new String[] {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "rip", "rflags"}) {
            put(java, expr, "offsetof(struct kvm_regs, " + f + ")",
                    KvmAbi.Regs.class.getField(f.toUpperCase()).getInt(null));
        }
        assertEquals(java, CProbe.evaluate(List.of("linux/kvm.h"), expr));
    }

    @Test
    void sigactionLayoutAndKickSignalMatchGlibc() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        Map<String, String> expr = new LinkedHashMap<>();
        put(java, expr, "sizeof(struct sigaction)", VcpuKicker.SIGACTION_SIZE);
        put(java, expr, "offsetof(struct sigaction, sa_handler)", VcpuKicker.SIGACTION_HANDLER);
        put(java, expr, "offsetof(struct sigaction, sa_flags)", VcpuKicker.SIGACTION_FLAGS);
        put(java, expr, "SIGRTMIN + 6", VcpuKicker.SIGNAL);
        assertEquals(java, CProbe.evaluate(List.of("signal.h"), expr));
    }

    private static void put(Map<String, Long> java, Map<String, String> expr, String c, long value) {
        java.put(c, value);
        expr.put(c, c);
    }
}
