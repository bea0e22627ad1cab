# e1000e: QEMU's 82574L (8086:10d3) passed through. BAR0 is memory (registers), BAR2 is I/O (IOADDR at 0, IODATA
# at 4: an indirect window onto the same registers) and is always trapped, the expansion ROM holds an option ROM.
# Results: mmio.* (registers through BAR0), io.* (the same registers through the I/O window, between mark.io.start
# and mark.io.end), rom.sig (the first two bytes through the ROM BAR: 0xaa55).
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
    xor %eax, %eax
    ret
