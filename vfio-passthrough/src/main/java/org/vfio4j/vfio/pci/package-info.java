/**
 * {@link org.vfio4j.vfio.pci.VfioPciDevice}: a host PCI function passed through to a guest with VFIO.
 *
 * <ul>
 *   <li><b>Config space</b> ({@code VirtualConfig}): built from the physical one; BARs, ROM BAR, interrupt
 *       line/pin, the multi-function bit, MSI and MSI-X are emulated, SR-IOV and resizable BAR are hidden, the rest
 *       reaches the device. The per-bit table is in {@code docs/config-space.md}.</li>
 *   <li><b>The guest's access path</b> ({@code GuestConfig}): vCPU exit, bus, then a config write goes to the
 *       config space, which returns what changed (a BAR moved, decode toggled, MSI/MSI-X reprogrammed, an FLR
 *       asked for); the device applies those changes after the config space's locks are released. MSI-X table
 *       writes take the same path.</li>
 *   <li><b>BARs</b> ({@code BarMapper}): mmapped into the guest as memslots where VFIO allows it, trapped (and
 *       forwarded with pread/pwrite of the exact access size) elsewhere; MSI-X table and PBA pages always trap;
 *       moves and decode toggles remove old memslots, then move the trap, then add new memslots.</li>
 *   <li><b>Interrupts</b> ({@code Interrupts}, the live mode; {@code IntxLine}, {@code MsiVectors}): INTx with a
 *       resample irqfd (vmm-core's loop delivery when the controller has no kernel irqfd), MSI and MSI-X per vector
 *       with KVM routes and irqfds, masked vectors through the event loop into the emulated pending bits;
 *       {@code ErrorAndRequestWatch}: ERR and REQ to {@link org.vfio4j.core.DeviceEvents}.</li>
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
 * writes are dropped). Lock order is the device lock ({@code GuestConfig}: config writes, MSI-X table effects,
 * resets), then BAR mapper or interrupt router, then, for moments, the config space or the MSI-X table. Nobody waits
 * for anything while holding one of the last two, so the event loop may take them (to set a pending bit); it takes
 * none of the others.
 */
package org.vfio4j.vfio.pci;
