/**
 * Intel integrated graphics (IGD) assignment, as {@link org.vfio4j.vfio.pci.DeviceQuirk}s: entry point
 * {@link org.vfio4j.vfio.igd.IgdQuirk}.
 *
 * <h2>Device-specific regions</h2>
 * vfio-pci reports regions beyond its fixed indices (index 9 and up) with a region-type capability.
 * {@link org.vfio4j.vfio.igd.DeviceRegionRegistry} finds them and hands each to the
 * {@link org.vfio4j.vfio.igd.DeviceRegionHandler} that claims its (type, subtype); regions nobody claims are logged
 * and ignored (vfio-inspect lists every region with its type). For IGD the kernel registers, in this order, the
 * OpRegion (subtype 1, read-only, 8 KiB plus any extended VBT), the host bridge's config space (subtype 2) and the
 * LPC bridge's config space (subtype 3), both read-only and as large as those functions' config spaces.
 *
 * <h2>Why the OpRegion is a copy in reserved RAM and not an extra BAR</h2>
 * crosvm exposes the OpRegion read-only through an extra BAR and points ASLS at it. vfio4j does not offer that:
 * <ul>
 *   <li>On real machines the OpRegion is ordinary memory that firmware reserves (ACPI NVS) and the graphics driver
 *       writes: driver version and notification fields in mailboxes 1 to 3, and the ASLE mailbox is a two-way
 *       channel. A read-only BAR drops those writes; RAM keeps them, as the hardware would.</li>
 *   <li>Guest drivers map the OpRegion cacheable (Linux: {@code memremap(MEMREMAP_WB)}) and read it field by field.
 *       Behind a trapped BAR every such read is a VM exit; a RAM copy costs nothing.</li>
 *   <li>An IGD has no spare BAR of the right kind in the usual place (BAR0/1 and BAR2/3 are its two 64-bit memory
 *       BARs, BAR4 its I/O BAR), and a guest that reprograms a BAR would move the OpRegion from under ASLS unless
 *       the VMM rewrote ASLS to follow it.</li>
 *   <li>It is what QEMU does too (through its firmware: fw_cfg "etc/igd-opregion", reserved by SeaBIOS/OVMF).</li>
 * </ul>
 * The cost is guest RAM (8 KiB, page rounded) and a VMM that can report reserved RAM:
 * {@link org.vfio4j.core.Vmm#memoryReservations()} (the e820 hook). A VMM without it cannot take an IGD with an
 * OpRegion: attach is refused with a message that says so.
 *
 * <h2>OpRegion 2.1+ and the extended VBT</h2>
 * vfio-pci (6.1 and later, since its "OpRegion 2.0+ Extended VBT support" change) exposes OpRegion and extended
 * VBT as one contiguous region, reporting version 2.1 or
 * later with RVDA (mailbox 3, offset 0x3BA) equal to the OpRegion size, i.e. relative to the OpRegion base. The
 * guest copy is the whole region, so RVDA stays right at any guest address and guest drivers find the VBT right
 * after the OpRegion (Linux's i915 adds the ASLS base to RVDA from 2.1 on). A region that says 2.0 with a non-zero
 * RVDA would carry a host physical address; it is refused.
 *
 * <h2>Stolen memory</h2>
 * GMCH (0x50) and BDSM (0x5C, or the 64-bit 0xC0 from generation 11) are emulated read-only, per generation (device
 * id families in {@link org.vfio4j.vfio.igd.IgdGeneration}). The stolen size GMCH asks for is reserved in guest RAM
 * below 4 GiB, 1 MiB aligned, and BDSM holds its guest base. The BAR0 mirrors of both registers are trapped.
 * What is not done (QEMU's legacy mode does it): translating the video BIOS's GTT writes through BAR4 to the guest
 * stolen range, patching the video BIOS, and VGA range setup; those concern booting the guest through the legacy
 * video BIOS, which vfio4j does not support.
 */
package org.vfio4j.vfio.igd;
