# e1000e: QEMU's 82574L (8086:10d3) passed through. BAR0 is memory (registers), BAR2 is I/O (IOADDR at 0, IODATA
# at 4: an indirect window onto the same registers) and is always trapped, the expansion ROM holds an option ROM.
# Results: mmio.* (registers through BAR0), io.* (the same registers through the I/O window, between mark.io.start
# and mark.io.end), rom.sig (the first two bytes through the ROM BAR: 0xaa55), then msix.* (two MSI-X vectors,
# each fired once by software-set interrupt causes: msix.v50.countN and msix.v51.countN count each vector).
.ifndef VENDOR
.set VENDOR, 0x8086
.endif
.ifndef DEVICE
.set DEVICE, 0x10d3
.endif
.ifndef IO_BAR
.set IO_BAR, 2
.endif
.set REG_STATUS, 0x08
.set REG_RAL0, 0x5400
.set REG_RAH0, 0x5404
.set REG_ICS, 0xc8
.set REG_IMS, 0xd0
.set REG_IMC, 0xd8
.set REG_EIAC, 0xdc
.set REG_IVAR, 0xe4
.set ICR_RXQ0, 1 << 20
.set ICR_RXQ1, 1 << 21
.set V50_COUNT, VARS + 0x80
.set V51_COUNT, VARS + 0x84

main:
    mov $(VENDOR | DEVICE << 16), %eax
    call pci_find
    jnz 1f
    SAY "e1000e not found"
    mov $1, %eax
    ret
1:  mov %ebx, %eax
    REPORT "function"
    call pci_setup
    mov BAR_ADDR, %esi
    mov REG_STATUS(%esi), %eax
    REPORT "mmio.status"
    mov REG_RAL0(%esi), %eax
    REPORT "mmio.ral0"
    mov REG_RAH0(%esi), %eax
    REPORT "mmio.rah0"

    mov BAR_ADDR + IO_BAR * 4, %edx
    REPORT "mark.io.start"
    mov $REG_STATUS, %eax
    out %eax, %dx                   # IOADDR
    in %dx, %eax
    REPORT "io.ioaddr"
    add $4, %edx
    in %dx, %eax                    # IODATA
    REPORT "io.status"
    sub $4, %edx
    mov $REG_RAL0, %eax
    out %eax, %dx
    add $4, %edx
    in %dx, %eax
    REPORT "io.ral0"
    sub $4, %edx
    mov $REG_RAH0, %eax
    out %eax, %dx
    add $4, %edx
    in %dx, %eax
    REPORT "io.rah0"
    REPORT "mark.io.end"

    mov BAR_ADDR + 24, %esi
    test %esi, %esi
    jnz 2f
    SAY "e1000e has no ROM BAR"
    mov $2, %eax
    ret
2:  movzwl (%esi), %eax
    REPORT "rom.sig"
    movzbl 2(%esi), %eax
    REPORT "rom.blocks"

    # MSI-X with two vectors: interrupt causes RXQ0 and RXQ1, set by software through ICS, routed by IVAR to
    # MSI-X vectors 0 and 1, which the table points at guest vectors 0x50 and 0x51.
    call msix_locate
    jnz 3f
    SAY "e1000e has no MSI-X capability"
    mov $3, %eax
    ret
3:  REPORT "msix.table"
    mov %eax, %edi
    movl $0xfee00000, 0x00(%edi)
    movl $0, 0x04(%edi)
    movl $0x50, 0x08(%edi)
    movl $0, 0x0c(%edi)
    movl $0xfee00000, 0x10(%edi)
    movl $0, 0x14(%edi)
    movl $0x51, 0x18(%edi)
    movl $0, 0x1c(%edi)
    mov $0x50, %eax
    mov $irq_v50, %edx
    call idt_set
    mov $0x51, %eax
    mov $irq_v51, %edx
    call idt_set
    call lapic_enable
    mov $0x8000, %eax
    mov $0x4000, %edx
    call msix_control
    mov BAR_ADDR, %esi
    movl $0x00000098, REG_IVAR(%esi)     # RXQ0 -> vector 0, RXQ1 -> vector 1, both valid
    movl $(ICR_RXQ0 | ICR_RXQ1), REG_EIAC(%esi)  # auto-clear the causes when their vector fires
    movl $(ICR_RXQ0 | ICR_RXQ1), REG_IMS(%esi)
    movl $ICR_RXQ0, REG_ICS(%esi)
    mov $1, %eax
    call wait_irq
    REPORT "msix.irq.count1"
    mov V50_COUNT, %eax
    REPORT "msix.v50.count1"
    mov V51_COUNT, %eax
    REPORT "msix.v51.count1"
    movl $ICR_RXQ1, REG_ICS(%esi)
    mov $2, %eax
    call wait_irq
    REPORT "msix.irq.count2"
    mov V50_COUNT, %eax
    REPORT "msix.v50.count2"
    mov V51_COUNT, %eax
    REPORT "msix.v51.count2"
    movl $0xffffffff, REG_IMC(%esi)      # all causes masked again
    xor %eax, %eax
    ret

irq_v50:
    incl V50_COUNT
    jmp irq_handler
irq_v51:
    incl V51_COUNT
    jmp irq_handler
