package org.vfio4j.pci;

import org.vfio4j.pci.config.ConfigChange;
import java.util.ArrayList;
import java.util.List;
import org.vfio4j.core.irq.MsiMessage;
import org.vfio4j.pci.bar.BarDefinition;
import org.vfio4j.pci.bar.PciBars;
import org.vfio4j.pci.caps.CapabilityList;
import org.vfio4j.pci.caps.PciExpressCapability;
import org.vfio4j.pci.caps.PowerManagementCapability;
import org.vfio4j.pci.caps.RawExtendedCapability;
import org.vfio4j.pci.caps.VendorCapability;
import org.vfio4j.pci.config.ConfigSpace;
import org.vfio4j.pci.config.ConfigSpaceSize;
import org.vfio4j.pci.config.PciHeaders;
import org.vfio4j.pci.config.PciIdentity;
import org.vfio4j.pci.msi.MsiCapability;
import org.vfio4j.pci.msix.MsixCapability;

/**
 * A fully featured emulated PCIe endpoint for tests: every BAR kind, a ROM, PM, MSI, MSI-X, PCIe, vendor and an
 * extended capability. Messages sent by MSI or MSI-X are collected in {@link #sent}.
 */
public final class TestFunction {
    public final ConfigSpace config;
    public final PciBars bars;
    public final CapabilityList caps;
    public final MsiCapability msi;
    public final MsixCapability msix;
    public final PowerManagementCapability pm;
    public final List<MsiMessage> sent = new ArrayList<>();

    public TestFunction() {
        this("test-fn");
    }

    public TestFunction(String name) {
        config = PciHeaders.type0(name, ConfigSpaceSize.EXTENDED,
                new PciIdentity(0x1af4, 0x1041, 0x020000, 0x01, 0x1af4, 0x0001), 1);
        bars = new PciBars(config);
        bars.define(BarDefinition.io(0, 32));
        bars.define(BarDefinition.memory32(1, 4096));
        bars.define(BarDefinition.memory64(2, 1L << 20, true));
        bars.define(BarDefinition.memory64(4, 16384, false));
        bars.defineRom(64 * 1024);
        caps = new CapabilityList(config);
        pm = new PowerManagementCapability(PowerManagementCapability.PMC_D1 | 0xC800, false);
        caps.add(pm);
        msi = new MsiCapability(4, true, true, sent::add);
        caps.add(msi);
        msix = new MsixCapability(8, 4, 0, 4, 0x800, sent::add);
        caps.add(msix);
        caps.add(PciExpressCapability.endpoint());
        caps.add(new VendorCapability(new byte[] {1, 2, 3, 4, 5}));
        caps.addExtended(new RawExtendedCapability(0x0003, 1, new byte[8], null));
        caps.addExtended(new RawExtendedCapability(0x000b, 1, new byte[] {0, 0, 0, 0, 1, 2, 3, 4},
                new byte[] {0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 0, 0}));
    }
}
