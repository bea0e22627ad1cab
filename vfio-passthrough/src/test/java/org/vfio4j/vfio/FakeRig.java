package org.vfio4j.vfio;

import static org.vfio4j.vfio.testing.FakeVfioDevice.MMAP;
import static org.vfio4j.vfio.testing.FakeVfioDevice.READ;
import static org.vfio4j.vfio.testing.FakeVfioDevice.WRITE;
import static org.vfio4j.vfio.uapi.VfioConstants.*;

import java.nio.file.Path;
import java.util.List;
import org.vfio4j.vfio.reset.DependentDevice;
import org.vfio4j.vfio.testing.FakeSysfs;
import org.vfio4j.vfio.testing.FakeVfioDevice;
import org.vfio4j.vfio.testing.FakeVfioKernel;

/**
 * The fake machine most tests use: NIC {@code 0000:01:00.0} alone in group 7, its sibling function
 * {@code 0000:01:00.1} in group 8 (so a hot reset needs both groups), an IGD-like {@code 0000:00:02.0} in group 3 with
 * vendor regions, and group 9 holding a vfio-pci device next to one still bound to snd_hda_intel.
 */
final class FakeRig {
    static final String NIC = "0000:01:00.0";
    static final String SIBLING = "0000:01:00.1";
    static final String IGD = "0000:00:02.0";

    final FakeVfioKernel kernel = new FakeVfioKernel();
    final FakeVfioDevice nic = new FakeVfioDevice(NIC);
    final FakeVfioDevice sibling = new FakeVfioDevice(SIBLING);
    final FakeVfioDevice igd = new FakeVfioDevice(IGD);
    final FakeSysfs sysfs;
    final Vfio vfio;

    FakeRig(Path tmp) {
        // BAR0: 64 KiB MMIO with the MSI-X table at 0x2000-0x2fff excluded from mmap
        nic.region(VFIO_PCI_BAR0_REGION_INDEX, 0x10000, READ | WRITE | MMAP)
                .sparseMmap(0x0, 0x2000, 0x3000, 0xd000);
        // BAR2: 16 KiB, MSI-X mappable, whole region mmappable
        nic.region(VFIO_PCI_BAR2_REGION_INDEX, 0x4000, READ | WRITE | MMAP).msixMappable();
        nic.region(VFIO_PCI_ROM_REGION_INDEX, 0x8000, READ);
        nic.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x1000, READ | WRITE);
        nic.irq(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1)
                .irq(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1)
                .irq(VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 4)
                .irq(VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1)
                .irq(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1);
        nic.hotResetDevices(List.of(new DependentDevice(7, 0, 1, 0), new DependentDevice(8, 0, 1, 1)));
        sibling.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x1000, READ | WRITE);

        igd.region(VFIO_PCI_CONFIG_REGION_INDEX, 0x100, READ | WRITE);
        igd.region(9, 0x2000, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL,
                VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION);
        igd.region(10, 0x100, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL,
                VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG);
        igd.region(11, 0x100, READ).type(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_INTEL,
                VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG);

        kernel.addDevice(7, nic).addDevice(8, sibling).addDevice(3, igd);
        kernel.addDevice(9, new FakeVfioDevice("0000:00:1f.0")).viable(9, false);
        sysfs = new FakeSysfs(tmp)
                .pciDevice(NIC, 7, "vfio-pci")
                .pciDevice(SIBLING, 8, "vfio-pci")
                .pciDevice(IGD, 3, "vfio-pci")
                .pciDevice("0000:00:1f.0", 9, "vfio-pci")
                .pciDevice("0000:00:1f.3", 9, "snd_hda_intel")
                .pciDevice("0000:00:1f.4", 9, null);
        vfio = new Vfio(kernel, sysfs.sysfs());
    }
}
