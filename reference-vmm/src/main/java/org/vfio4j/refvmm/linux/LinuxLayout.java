package org.vfio4j.refvmm.linux;

import java.util.ArrayList;
import java.util.List;
import org.vfio4j.core.kvm.KvmAbi;
import org.vfio4j.core.kvm.KvmGuestMemory;
import org.vfio4j.core.kvm.KvmVcpu;
import org.vfio4j.core.kvm.KvmVmm;
import org.vfio4j.core.kvm.Registers;
import org.vfio4j.core.kvm.Segment;
import org.vfio4j.core.kvm.SpecialRegisters;
import org.vfio4j.core.memory.E820Type;
import org.vfio4j.core.memory.ReservedRange;
import org.vfio4j.pci.PciEmulationModule;
import org.vfio4j.pci.bus.BarAllocator;
import org.vfio4j.pci.bus.PciHostBridge;
import org.vfio4j.refvmm.linux.acpi.AcpiConfig;
import org.vfio4j.refvmm.linux.acpi.AcpiTables;
import org.vfio4j.refvmm.linux.boot.BzImage;
import org.vfio4j.refvmm.linux.boot.LinuxBootRequest;
import org.vfio4j.refvmm.linux.boot.LinuxBootSetup;
import org.vfio4j.refvmm.linux.boot.LinuxLoader;
import org.vfio4j.refvmm.linux.boot.LongModeRegisters;
import org.vfio4j.refvmm.linux.pci.AssignedFunction;
import org.vfio4j.refvmm.linux.pci.PciResourceAssigner;
import org.vfio4j.refvmm.linux.pci.PciWindow;
import org.vfio4j.refvmm.linux.pci.PciWindows;

/**
 * The Linux VMM's guest-physical layout and the steps that fill it before the first vCPU runs: RAM split around
 * the PCI hole, ECAM, the PCI windows, COM1, the ACPI tables, the kernel with its boot_params and page tables, and
 * the vCPU entry state. One place for the numbers that the ACPI tables, the PCI firmware and the loader must agree
 * on.
 */
final class LinuxLayout {
    /** ECAM (PCIe MMCONFIG) for 256 buses, as q35 places it; e820-reserved and named by the MCFG. */
    static final long ECAM_BASE = AcpiConfig.STANDARD_ECAM_BASE;
    static final int ECAM_BUSES = 256;
    /** RAM below 4 GiB ends where ECAM starts; the rest of RAM continues at 4 GiB. */
    static final long LOW_RAM_LIMIT = ECAM_BASE;
    static final long HIGH_RAM_BASE = 1L << 32;
    /** The PCI windows (I/O, 32-bit below the IO-APIC, 64-bit at 256 GiB) that the DSDT and the firmware share. */
    static final PciWindows PCI_WINDOWS = PciWindows.STANDARD;
    /** COM1. */
    static final int COM1_PORT = 0x3F8;
    static final int COM1_IRQ = 4;
    /** Passed-through functions go on bus 0 from this slot on (slot 0 is the host bridge). */
    static final int FIRST_DEVICE_SLOT = 1;

    private LinuxLayout() {
    }

    /** pci-emulation's settings for this layout: the PCI windows above and ECAM for 256 buses. */
    static PciEmulationModule.Settings pciSettings() {
        return new PciEmulationModule.Settings(PciHostBridge.DEFAULT_IDENTITY, ECAM_BUSES, window(PCI_WINDOWS.io()),
                window(PCI_WINDOWS.mem32()), window(PCI_WINDOWS.mem64()));
    }

    private static BarAllocator.Window window(PciWindow w) {
        return new BarAllocator.Window(w.base(), w.size());
    }

    /** Guest RAM: up to {@link #LOW_RAM_LIMIT} from 0, the rest from 4 GiB. */
    static void addRam(KvmGuestMemory memory, long ramBytes) {
        long low = Math.min(ramBytes, LOW_RAM_LIMIT);
        memory.addRam(0, low, "ram below 4 GiB");
        if (ramBytes > low) {
            memory.addRam(HIGH_RAM_BASE, ramBytes - low, "ram above 4 GiB");
        }
    }

    /** Parses the kernel (refusing what this VMM cannot boot) before any VM exists. */
    static BzImage checkKernel(LinuxVmConfig config) {
        return BzImage.read(config.kernel());
    }

    /**
     * Fills the guest before it runs: PCI resources as firmware assigns them, the ACPI tables (at 0xE0000), then the kernel,
     * initrd, command line, boot_params (with an e820 map that reserves ECAM and whatever the VMM's memory
     * reservations hold, e.g. an IGD OpRegion) and the long-mode page tables. Seals the reservations: nothing may
     * take guest RAM once the e820 map is written.
     */
    static BootReport load(LinuxVmConfig config, KvmVmm vmm, PciHostBridge hostBridge) {
        BzImage kernel = checkKernel(config);
        byte[] initrd = config.initrd().map(LinuxLoader::readInitrd).orElse(new byte[0]);
        KvmGuestMemory memory = vmm.guestMemory();
        List<AssignedFunction> pci = new PciResourceAssigner(hostBridge, PCI_WINDOWS).assign();
        AcpiTables acpi = AcpiTables.build(AcpiTables.STANDARD_BASE, AcpiConfig.standard(config.vcpus()));
        memory.write(acpi.base(), acpi.bytes());
        List<ReservedRange> reserved = new ArrayList<>();
        reserved.add(new ReservedRange(ECAM_BASE, (long) ECAM_BUSES << 20, E820Type.RESERVED, "pci ecam"));
        vmm.reservations().seal();
        reserved.addAll(vmm.reservations().reserved());
        LinuxBootSetup setup = LinuxLoader.load(new LinuxBootRequest(kernel, initrd, config.commandLine(),
                memory.regions(), reserved, acpi.rsdpAddress()), memory::write);
        return new BootReport(kernel, setup, acpi, pci);
    }

    /**
     * The 64-bit boot protocol's entry state on vCPU 0: paging on with the identity map, the GDT's 64-bit code and
     * flat data segments, a busy TSS in TR (VMX refuses long mode without one), RIP at the 64-bit entry, RSI at
     * boot_params, interrupts off.
     */
    static void enter(KvmVcpu vcpu, LinuxBootSetup setup) {
        LongModeRegisters r = setup.registers();
        SpecialRegisters s = vcpu.specialRegisters();
        s.segment(KvmAbi.Sregs.CS, kvm(r.cs()));
        s.dataSegments(kvm(r.data()));
        s.segment(KvmAbi.Sregs.TR, kvm(r.tr()));
        s.gdt(r.gdtBase(), r.gdtLimit());
        s.idt(0, 0);
        s.cr3(r.cr3());
        s.cr4(r.cr4());
        s.cr0(r.cr0());
        s.efer(r.efer());
        vcpu.setSpecialRegisters(s);
        vcpu.setRegisters(new Registers().rip(setup.entryRip()).rsi(setup.rsi()).rflags(2));
    }

    private static Segment kvm(org.vfio4j.refvmm.linux.boot.Segment s) {
        return new Segment(s.base(), (int) s.limit(), s.selector(), s.type(), s.present(), s.dpl(), s.db(), s.s(),
                s.l(), s.g(), false);
    }

    /** LVT LINT0 register offset in the local APIC page, and LINT1's. */
    private static final int LVT_LINT0 = 0x350;
    private static final int LVT_LINT1 = 0x360;
    private static final int DELIVERY_EXTINT = 7 << 8;
    private static final int DELIVERY_NMI = 4 << 8;

    /**
     * LINT0 as ExtINT (the PIC's virtual-wire input) and LINT1 as NMI, as PC firmware leaves the local APIC; Linux
     * relies on that state for the PIC-mode timer check and for NMIs.
     */
    static void setLocalInterruptPins(KvmVcpu vcpu) {
        byte[] lapic = vcpu.lapicState();
        putInt(lapic, LVT_LINT0, DELIVERY_EXTINT);
        putInt(lapic, LVT_LINT1, DELIVERY_NMI);
        vcpu.setLapicState(lapic);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
    }
}
