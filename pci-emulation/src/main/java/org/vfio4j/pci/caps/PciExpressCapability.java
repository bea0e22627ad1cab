package org.vfio4j.pci.caps;

import static org.vfio4j.pci.config.PciRegisters.*;

import java.util.List;
import org.vfio4j.pci.config.ConfigChange;
import org.vfio4j.pci.config.ConfigSpace;

/**
 * A version 2 PCI Express capability (id 0x10) for an endpoint-like function, 0x3C bytes.
 *
 * <p>Register classes: capabilities, device/link capabilities and link status read-only; device control writable
 * (the initiate-FLR bit 15 always reads zero; on a function advertising FLR, writing it returns
 * {@link ConfigChange.FunctionResetRequested} from {@link ConfigSpace#guestWrite}); device
 * status error bits RW1C; link control writable in the bits an endpoint implements (ASPM, common clock, extended
 * synch, clock PM, autonomous width disable). Everything else, including the slot and root registers, reads zero.
 */
public final class PciExpressCapability implements Capability {
    /** Device control bits an endpoint implements as RW (bits 14:0 except phantom functions and aux power). */
    public static final int DEVCTL_WRITABLE = 0x79FF;
    /** Link control bits an endpoint implements as RW. */
    public static final int LNKCTL_WRITABLE = 0x03C3;

    private final int portType;
    private final int deviceCapabilities;
    private final int linkCapabilities;

    /**
     * @param portType           device/port type field, e.g. {@link org.vfio4j.pci.config.PciRegisters#PCI_EXP_TYPE_ENDPOINT}
     * @param deviceCapabilities DEVCAP; set {@link org.vfio4j.pci.config.PciRegisters#PCI_EXP_DEVCAP_FLR} to offer FLR
     * @param linkCapabilities   LNKCAP; its speed (3:0) and width (9:4) are reported in link status
     */
    public PciExpressCapability(int portType, int deviceCapabilities, int linkCapabilities) {
        if (portType < 0 || portType > 0xF) {
            throw new IllegalArgumentException("port type is 4 bits: " + portType);
        }
        this.portType = portType;
        this.deviceCapabilities = deviceCapabilities;
        this.linkCapabilities = linkCapabilities;
    }

    /** An endpoint with a x1 2.5 GT/s link and no FLR. */
    public static PciExpressCapability endpoint() {
        return new PciExpressCapability(PCI_EXP_TYPE_ENDPOINT, 0, 0x11);
    }

    @Override
    public int id() {
        return PCI_CAP_ID_EXP;
    }

    @Override
    public int length() {
        return PCI_EXP_VER2_SIZEOF;
    }

    @Override
    public void install(ConfigSpace cs, int offset) {
        cs.setWord(offset + PCI_EXP_FLAGS, 2 | (portType << 4));
        cs.setDword(offset + PCI_EXP_DEVCAP, deviceCapabilities);
        cs.setWritable(offset + PCI_EXP_DEVCTL, 2, DEVCTL_WRITABLE);
        cs.setClearOnWrite(offset + PCI_EXP_DEVSTA, 2, PCI_EXP_DEVSTA_RW1C);
        cs.setDword(offset + PCI_EXP_LNKCAP, linkCapabilities);
        cs.setWritable(offset + PCI_EXP_LNKCTL, 2, LNKCTL_WRITABLE);
        cs.setWord(offset + PCI_EXP_LNKSTA, linkCapabilities & 0x3FF);
        if ((deviceCapabilities & PCI_EXP_DEVCAP_FLR) != 0) {
            int devctl = offset + PCI_EXP_DEVCTL;
            cs.addWriteHook(devctl, 2, (off, size, value, before, after) -> {
                int bitByte = devctl + 1; // bit 15 lives in the high byte of DEVCTL
                if (off <= bitByte && off + size > bitByte
                        && ((value >>> ((bitByte - off) * 8)) & 0x80) != 0) {
                    return List.of(new ConfigChange.FunctionResetRequested());
                }
                return List.of();
            });
        }
    }
}
