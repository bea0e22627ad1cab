# nvme: QEMU's NVMe controller (1b36:0010) passed through. BAR0 holds the registers, the doorbells at 0x1000 and
# the MSI-X table and PBA; the VMM maps BAR0 but keeps the table's page trapped.
# Results: nvme.cap.*, nvme.vs (read REG_READS times between mark.regs.start and mark.regs.end), msix.* (the table
# found through the capability, entry 0 written between mark.table.start and mark.table.end: 4 dword writes), then
# the admin queue brought up and a Get Features (number of queues) command whose completion interrupts on MSI-X
# vector 0 (guest vector 0x41): irq.count, nvme.cqe.*. Then vector 0 is masked and a second command completes:
# masked.* (no interrupt, the PBA bit set), and unmasking delivers it: unmasked.*. With RESET_PORT defined, the
# program asks the VMM to reset the function (a write to that port) after the first command: reset.*.
.ifndef VENDOR
.set VENDOR, 0x1b36
.endif
.ifndef DEVICE
.set DEVICE, 0x0010
.endif
.ifndef REG_READS
.set REG_READS, 1000
.endif
.set ASQ_BUF, 0x300000
.set ACQ_BUF, 0x301000
.set NVME_BAR, VARS + 0x80
.set CID, 0x0042
.set MSIX_ENTRY0, VARS + 0x84
.set MSIX_PBA, VARS + 0x88
.set NVME_CQ_DB, VARS + 0x8c
.set MSIX_CAP_OFF, VARS + 0x90
.set RESET_CID, 0x0050

main:
    mov $(VENDOR | DEVICE << 16), %eax
    call pci_find
    jnz 1f
    SAY "nvme not found"
    mov $1, %eax
    ret
1:  mov %ebx, %eax
    REPORT "function"
    call pci_setup
    mov BAR_ADDR, %esi
    mov %esi, NVME_BAR

    REPORT "mark.regs.start"
    mov $REG_READS, %ecx
    xor %edi, %edi
    mov 0x08(%esi), %edx
2:  mov 0x08(%esi), %eax
    cmp %edx, %eax
    je 3f
    inc %edi
3:  loop 2b
    REPORT "mark.regs.end"
    mov %edx, %eax
    REPORT "nvme.vs"
    mov %edi, %eax
    REPORT "nvme.vs.changed"
    mov 0x00(%esi), %eax
    REPORT "nvme.cap.lo"
    mov 0x04(%esi), %eax
    REPORT "nvme.cap.hi"

    call msix_locate
    jnz 4f
    SAY "nvme has no MSI-X capability"
    mov $2, %eax
    ret
4:  mov %ecx, MSIX_CAP_OFF
    REPORT "msix.table"
    push %eax
    mov %edx, %eax
    REPORT "msix.size"
    mov %ecx, %eax
    REPORT "msix.cap"
    pop %edi                        # edi = table entry 0
    mov %edi, MSIX_ENTRY0
    push %ecx
    add $8, %ecx
    call pci_read32                 # PBA offset | BIR
    mov %eax, %edx
    and $7, %edx
    and $0xfffffff8, %eax
    add BAR_ADDR(,%edx,4), %eax
    mov %eax, MSIX_PBA
    REPORT "msix.pba"
    pop %ecx
    REPORT "mark.table.start"
    movl $0xfee00000, 0x0(%edi)
    movl $0, 0x4(%edi)
    movl $0x41, 0x8(%edi)
    movl $0, 0xc(%edi)
    REPORT "mark.table.end"
    mov 0x8(%edi), %eax
    REPORT "msix.entry0.data"
    mov 0xc(%edi), %eax
    REPORT "msix.entry0.ctrl"
    mov $0x41, %eax
    mov $irq_handler, %edx
    call idt_set
    call lapic_enable
    mov $0x8000, %eax               # MSI-X enable, function mask clear
    mov $0x4000, %edx
    call msix_control
    add $2, %ecx
    call pci_read16
    REPORT "msix.control"

    # Admin queues: 2-entry submission and completion queues in RAM (DMA through the IOMMU).
    mov NVME_BAR, %esi
    call nvme_enable
    REPORT "nvme.enable.polls.left"
    mov 0x1c(%esi), %eax
    REPORT "nvme.csts"

    # Get Features, feature 7 (number of queues): no data transfer, one completion.
    movl $(0x0a | CID << 16), ASQ_BUF + 0
    movl $7, ASQ_BUF + 40
    REPORT "mark.cmd.start"
    movl $1, 0x1000(%esi)           # SQ 0 tail doorbell
    mov $1, %eax
    call wait_irq
    REPORT "irq.count"
    mov ACQ_BUF + 0, %eax
    REPORT "nvme.cqe.dw0"
    mov ACQ_BUF + 12, %eax
    REPORT "nvme.cqe.dw3"
    mov 0x04(%esi), %ecx            # CAP.DSTRD: doorbell stride 4 << DSTRD
    and $0xf, %ecx
    mov $4, %eax
    shl %cl, %eax
    mov %eax, NVME_CQ_DB
    movl $1, 0x1000(%esi,%eax)      # CQ 0 head doorbell

.ifdef RESET_PORT
    # The VMM resets the function when asked on RESET_PORT. What the guest programmed must survive (BARs,
    # command, MSI-X), the controller itself must be reset (CC = 0), and after bringing it up again a command's
    # completion must interrupt as before.
    mov $0x10, %ecx
    call pci_read32
    REPORT "bar0reg.before"
    mov $RESET_PORT, %dx
    mov $1, %al
    out %al, %dx
    SAY "reset requested"
    call pci_read32
    REPORT "reset.bar0reg"
    mov $0x04, %ecx
    call pci_read16
    REPORT "reset.command"
    mov MSIX_CAP_OFF, %ecx
    add $2, %ecx
    call pci_read16
    REPORT "reset.msix.control"
    mov MSIX_ENTRY0, %edi
    mov 0x8(%edi), %eax
    REPORT "reset.msix.entry0.data"
    mov 0x14(%esi), %eax
    REPORT "reset.nvme.cc"
    mov 0x08(%esi), %eax
    REPORT "reset.nvme.vs"
    call nvme_enable
    REPORT "reset.enable.polls.left"
    movl $(0x0a | RESET_CID << 16), ASQ_BUF + 0
    movl $7, ASQ_BUF + 40
    movl $1, 0x1000(%esi)
    mov IRQ_COUNT, %eax
    inc %eax
    call wait_irq
    REPORT "reset.irq.count"
    mov ACQ_BUF + 12, %eax
    REPORT "reset.cqe.dw3"
    mov NVME_CQ_DB, %eax
    movl $1, 0x1000(%esi,%eax)
.endif

    # Masked vector: the completion of a second command must not interrupt but leave the PBA bit pending, and
    # unmasking must deliver it.
    mov MSIX_ENTRY0, %edi
    movl $1, 0xc(%edi)              # mask vector 0
    movl $(0x0a | (CID + 1) << 16), ASQ_BUF + 64
    movl $7, ASQ_BUF + 64 + 40
    movl $0, 0x1000(%esi)           # SQ 0 tail wraps to 0: entry 1 submitted
    push %esi
    mov $(ACQ_BUF + 16 + 12), %esi
    mov $0x10000, %eax
    call poll_set                   # the phase bit of completion entry 1
    pop %esi
    REPORT "masked.cqe.polls.left"
    mov ACQ_BUF + 16 + 12, %eax
    REPORT "masked.cqe.dw3"
    push %esi
    mov MSIX_PBA, %esi
    mov $1, %eax
    call poll_set                   # the pending bit of vector 0
    pop %esi
    REPORT "masked.pba.polls.left"
    mov MSIX_PBA, %eax
    mov (%eax), %eax
    REPORT "masked.pba"
    mov IRQ_COUNT, %eax
    REPORT "masked.irq.count"
    movl $0, 0xc(%edi)              # unmask: the pending interrupt is delivered now
    mov IRQ_COUNT, %eax
    inc %eax
    call wait_irq
    REPORT "unmasked.irq.count"
    mov MSIX_PBA, %eax
    mov (%eax), %eax
    REPORT "unmasked.pba"
    mov NVME_CQ_DB, %eax
    movl $0, 0x1000(%esi,%eax)      # CQ 0 head wraps to 0

    movl $0, 0x14(%esi)             # disable the controller again
    xor %eax, %eax
    ret

# nvme_enable: esi = BAR0. Disables the controller, zeroes both admin queues, programs them (2 entries each) and
# enables it. Returns eax = polls left waiting for CSTS.RDY (0: it never came up).
nvme_enable:
    push %ecx
    push %edi
    mov $ASQ_BUF, %edi
    mov $(0x2000 / 4), %ecx
    xor %eax, %eax
    rep stosl
    movl $0, 0x14(%esi)             # CC.EN = 0
    push %esi
    lea 0x1c(%esi), %esi
    mov $1, %eax
    call poll_clear                 # CSTS.RDY = 0
    pop %esi
    movl $0x00010001, 0x24(%esi)    # AQA: 2 entries each (zero-based sizes)
    movl $ASQ_BUF, 0x28(%esi)
    movl $0, 0x2c(%esi)
    movl $ACQ_BUF, 0x30(%esi)
    movl $0, 0x34(%esi)
    movl $0x00460001, 0x14(%esi)    # CC: IOCQES 4, IOSQES 6, MPS 4 KiB, NVM command set, EN
    push %esi
    lea 0x1c(%esi), %esi
    mov $1, %eax
    call poll_set                   # CSTS.RDY = 1
    pop %esi
    pop %edi
    pop %ecx
    ret
