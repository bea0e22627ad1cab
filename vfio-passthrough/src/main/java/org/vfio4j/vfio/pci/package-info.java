/**
 * {@link org.vfio4j.vfio.pci.VfioPciDevice}: a host PCI function passed through to a guest with VFIO.
 *
 * <ul>
 *   <li><b>Config space</b> ({@code VirtualConfig}): built from the physical one; BARs, ROM BAR, interrupt
 *       line/pin, the multi-function bit, MSI and MSI-X are emulated, SR-IOV and resizable BAR are hidden, the rest
 *       reaches the device. The per-bit table is in {@code docs/config-space.md}.</li>
 *   <li><b>BARs</b> ({@code BarMapper}): mmapped into the guest as memslots where VFIO allows it, trapped (and
 *       forwarded with pread/pwrite of the exact access size) elsewhere; MSI-X table and PBA pages always trap;
 *       moves and decode toggles remove old memslots, then move the trap, then add new memslots.</li>
 *   <li><b>Interrupts</b> ({@code Interrupts}): INTx with a resample irqfd (loop fallback), MSI and MSI-X per
 *       vector with KVM routes and irqfds, masked vectors through the event loop into the emulated pending bits,
 *       ERR and REQ to {@link org.vfio4j.core.DeviceEvents}.</li>
 *   <li><b>DMA</b> ({@code GuestRamDma}): all guest RAM at IOVA = GPA, refusing layouts that touch reserved IOVA
 *       holes, following RAM hotplug.</li>
 *   <li><b>Reset</b>: {@link org.vfio4j.vfio.pci.VfioPciDevice#reset()} picks VFIO_DEVICE_RESET, else a hot reset
 *       when this VMM owns every affected group, and restores the virtualized state.</li>
 *   <li><b>Extension</b>: {@link org.vfio4j.vfio.pci.DeviceQuirk} for device-specific behaviour (IGD uses it).</li>
 *   <li><b>Observability</b>: {@link org.vfio4j.vfio.pci.VfioPciCounters} (mapped/trapped ranges per BAR, trapped
 *       accesses, interrupts by path, DMA bytes, last reset).</li>
 * </ul>
 *
 * <p>Threads: guest config and BAR accesses run on vCPU threads and never throw (bad accesses read all-ones and
 * writes are dropped). Lock order is config space, then BAR mapper or interrupt router, then the MSI-X table; event
 * loop callbacks take none of the first two, because a vCPU holding them may be waiting for the loop.
 */
package org.vfio4j.vfio.pci;
