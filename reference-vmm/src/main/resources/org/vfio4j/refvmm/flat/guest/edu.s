# edu: QEMU's educational device (1234:11e8) passed through. BAR0 (1 MiB, mmapped by the VMM):
#   0x00 id (0x010000ed)  0x04 liveness (reads back inverted)  0x08 factorial  0x20 status (bit 0 computing,
#   bit 7 raise an interrupt after the factorial)  0x24 irq status  0x60 irq raise  0x64 irq ack
#   0x80 DMA source  0x88 DMA destination  0x90 DMA count  0x98 DMA command (bit 0 start, bit 1 edu->RAM,
#   bit 2 interrupt when done); the DMA buffer is at 0x40000 in edu's address space; edu's DMA mask is 28 bits.
# Results: edu.id (read ID_READS times between mark.id.start and mark.id.end, edu.id.changed counts reads that
# differed), edu.live, edu.fact (FACT_N!), dma.* (RAM -> edu -> RAM through the IOMMU; DST_BUF must equal SRC_BUF),
# msi.cap, irq.* (MSI vector 0x40 by the irq raise register, then by factorial completion). With ONLY_ID defined
# the program stops after the id reads. Last, decode.off.read (BAR0 with memory decode off) and moved.* (BAR0
# moved to MOVED_BAR: the id read there between mark.moved.start and mark.moved.end, and what the old address reads).
.ifndef VENDOR
.set VENDOR, 0x1234
.endif
.ifndef DEVICE
.set DEVICE, 0x11e8
.endif
.ifndef ID_READS
.set ID_READS, 1000
.endif
.ifndef FACT_N
.set FACT_N, 10
.endif
.set EDU_BUF, 0x40000
.set DMA_BYTES, 2048                  # less than the 4 KiB buffer: some QEMU versions refuse a DMA that ends exactly at its end
.set SRC_BUF, 0x100000
.set DST_BUF, 0x200000
.set EDU_BAR, VARS + 0x80
.set EDU_IRQ_STATUS, VARS + 0x84
.set RAISE_VALUE, 0x0000beef
.set EDU_FN, VARS + 0x88
.set MOVED_BAR, 0xe0800000

main:
    mov $(VENDOR | DEVICE << 16), %eax
    call pci_find
    jnz 1f
    SAY "edu not found"
    mov $1, %eax
    ret
1:  mov %ebx, %eax
    mov %ebx, EDU_FN
    REPORT "function"
    call pci_setup
    mov BAR_ADDR, %esi
    mov %esi, EDU_BAR

    # The identification register, ID_READS times, through the mapped BAR.
    REPORT "mark.id.start"
    mov (%esi), %edx
    mov $ID_READS, %ecx
    xor %edi, %edi
2:  mov (%esi), %eax
    cmp %edx, %eax
    je 3f
    inc %edi
3:  loop 2b
    REPORT "mark.id.end"
    mov %edx, %eax
    REPORT "edu.id"
    mov %edi, %eax
    REPORT "edu.id.changed"
.ifdef ONLY_ID
    xor %eax, %eax                  # ONLY_ID: stop after the id reads (a run with every BAR access trapped)
    ret
.endif

    movl $0x12345678, 0x04(%esi)
    mov 0x04(%esi), %eax
    REPORT "edu.live"

    # Factorial, polled.
    movl $0, 0x20(%esi)
    movl $FACT_N, 0x08(%esi)
    push %esi
    lea 0x20(%esi), %esi
    mov $1, %eax
    call poll_clear
    pop %esi
    REPORT "fact.polls.left"
    mov 0x08(%esi), %eax
    REPORT "edu.fact"

    # DMA: SRC_BUF -> edu buffer -> DST_BUF, polled.
    mov $SRC_BUF, %edi
    mov $(DMA_BYTES / 4), %ecx
    call fill_pattern
    mov $DST_BUF, %edi
    mov $(DMA_BYTES / 4), %ecx
    xor %eax, %eax
    rep stosl
    mov $SRC_BUF, %eax
    mov $EDU_BUF, %edx
    mov $1, %ecx
    call edu_dma
    REPORT "dma.to.polls.left"
    mov $EDU_BUF, %eax
    mov $DST_BUF, %edx
    mov $3, %ecx
    call edu_dma
    REPORT "dma.from.polls.left"
    mov $SRC_BUF, %esi
    mov $DST_BUF, %edi
    mov $(DMA_BYTES / 4), %ecx
    call count_diff
    REPORT "dma.mismatches"
    mov DST_BUF + 4, %eax
    REPORT "dma.dst1"

    # MSI on vector 0x40 through the local APIC.
    mov EDU_BAR, %esi
    mov $0x40, %eax
    mov $irq_handler, %edx
    call idt_set
    movl $edu_irq_hook, IRQ_HOOK
    call lapic_enable
    mov $0x40, %eax
    call msi_enable
    mov %ecx, %eax
    REPORT "msi.cap"
    jnz 4f
    SAY "edu has no MSI capability"
    mov $2, %eax
    ret
4:  mov $0x06, %ecx
    call pci_read16
    REPORT "status"
    REPORT "mark.irq.start"
    movl $RAISE_VALUE, 0x60(%esi)
    mov $1, %eax
    call wait_irq
    REPORT "irq.count"
    mov EDU_IRQ_STATUS, %eax
    REPORT "irq.status"
    mov 0x24(%esi), %eax
    REPORT "irq.status.after.ack"
    # Second interrupt: edu raises it itself when the factorial is done.
    movl $0x80, 0x20(%esi)
    movl $5, 0x08(%esi)
    mov $2, %eax
    call wait_irq
    REPORT "irq.count2"
    mov EDU_IRQ_STATUS, %eax
    REPORT "irq.status2"
    mov 0x08(%esi), %eax
    REPORT "edu.fact5"

    # Decode off: BAR0 answers nothing (all-ones). Then move BAR0 and decode again: the id is at the new address,
    # read without exits, and nothing is left at the old one.
    mov EDU_FN, %ebx
    mov $0x04, %ecx
    call pci_read16
    and $0xfffd, %eax
    call pci_write16
    mov EDU_BAR, %esi
    mov (%esi), %eax
    REPORT "decode.off.read"
    mov $MOVED_BAR, %eax
    mov $0x10, %ecx
    call pci_write32
    call pci_read32
    REPORT "moved.bar0"
    mov $0x04, %ecx
    call pci_read16
    or $0x0002, %eax
    call pci_write16
    mov $MOVED_BAR, %esi
    mov %esi, EDU_BAR
    REPORT "mark.moved.start"
    mov (%esi), %edx
    mov $ID_READS, %ecx
    xor %edi, %edi
5:  mov (%esi), %eax
    cmp %edx, %eax
    je 6f
    inc %edi
6:  loop 5b
    REPORT "mark.moved.end"
    mov %edx, %eax
    REPORT "moved.id"
    mov %edi, %eax
    REPORT "moved.id.changed"
    mov BAR_ADDR, %esi
    mov (%esi), %eax
    REPORT "moved.old.read"
    xor %eax, %eax
    ret

# edu_dma: eax = source, edx = destination, ecx = command (start | direction). Returns eax = polls left.
edu_dma:
    push %esi
    mov EDU_BAR, %esi
    mov %eax, 0x80(%esi)
    movl $0, 0x84(%esi)
    mov %edx, 0x88(%esi)
    movl $0, 0x8c(%esi)
    movl $DMA_BYTES, 0x90(%esi)
    movl $0, 0x94(%esi)
    mov %ecx, 0x98(%esi)
    lea 0x98(%esi), %esi
    mov $1, %eax
    call poll_clear
    pop %esi
    ret

# Called by irq_handler: read edu's interrupt status, remember it, acknowledge it.
edu_irq_hook:
    mov EDU_BAR, %esi
    mov 0x24(%esi), %eax
    mov %eax, EDU_IRQ_STATUS
    mov %eax, 0x64(%esi)
    ret
