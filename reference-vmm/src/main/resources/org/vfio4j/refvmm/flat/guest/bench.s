# bench: the issue-8 benchmark. One image, run by vfio4j's GuestMachine and by QEMU (-bios, -accel kvm, vfio-pci),
# timing each passthrough path with rdtsc. Devices (each optional: a missing one skips its measurements):
#   edu 1234:11e8 (BAR0 memory), nvme 1b36:0010 (MSI-X table in BAR0), e1000e 8086:10d3 (BAR2 I/O).
# Each measurement: WARMUP untimed operations, "mark.<op>.start", N operations between two rdtsc, then
# "<op>.cycles" = TSC cycles per operation (total / N) and "<op>.n" = N. The KVM exits a VMM stamps on the two lines
# are the exits of the N operations plus the debugcon writes of the "<op>.cycles" line itself (one port-I/O exit per
# character: the reader subtracts them).
#   mapped   edu BAR0 id register reads (mapped: no exit expected)
#   config   edu vendor/device reads through CF8/CFC (a CF8 write and a CFC read each); without edu, the host
#            bridge's (00:00.0), so the trapped exit path can be compared on a host without VFIO devices
#   msix     nvme MSI-X table writes (entry 0 message data; the entry stays masked)
#   ioport   e1000e IODATA reads through BAR2 (IOADDR set to STATUS once)
#   msi      edu raise-interrupt write -> MSI -> the guest's handler ran (acknowledges edu, EOI) -> back
.ifndef N_MAPPED
.set N_MAPPED, 20000
.endif
.ifndef N_CONFIG
.set N_CONFIG, 2000
.endif
.ifndef N_MSIX
.set N_MSIX, 2000
.endif
.ifndef N_IOPORT
.set N_IOPORT, 2000
.endif
.ifndef N_MSI
.set N_MSI, 500
.endif
.set WARMUP, 16
.set EDU_BAR, VARS + 0x80
.set EDU_FN, VARS + 0x84
.set NVME_TABLE, VARS + 0x88
.set E1K_IO, VARS + 0x8c
.set EDU_IRQ_STATUS, VARS + 0x90
.set TSC_LO, VARS + 0x98
.set TSC_HI, VARS + 0x9c
.set E1K_IO_BAR, 2
.set E1K_STATUS, 0x08

# TSC_START: remembers the time stamp counter. Clobbers eax, edx.
.macro TSC_START
    rdtsc
    mov %eax, TSC_LO
    mov %edx, TSC_HI
.endm

# TSC_END n, key: reports key = cycles since TSC_START / n, then key.n. Clobbers eax, ecx, edx.
.macro TSC_END n, key
    rdtsc
    sub TSC_LO, %eax
    sbb TSC_HI, %edx
    mov $\n, %ecx
    div %ecx
    REPORT "\key"
    mov $\n, %eax
    REPORT "\key\().n"
.endm

main:
    # Find and set up every device first, so the measurements run back to back.
    mov $(0x1234 | 0x11e8 << 16), %eax
    call pci_find
    jz 1f
    mov %ebx, EDU_FN
    mov %ebx, %eax
    REPORT "edu.function"
    call pci_setup
    mov BAR_ADDR, %eax
    mov %eax, EDU_BAR
1:  mov $(0x1b36 | 0x0010 << 16), %eax
    call pci_find
    jz 2f
    mov %ebx, %eax
    REPORT "nvme.function"
    call pci_setup
    call msix_locate
    jz 2f
    mov %eax, NVME_TABLE
    REPORT "nvme.msix.table"
2:  mov $(0x8086 | 0x10d3 << 16), %eax
    call pci_find
    jz 3f
    mov %ebx, %eax
    REPORT "e1000e.function"
    call pci_setup
    mov BAR_ADDR + E1K_IO_BAR * 4, %eax
    mov %eax, E1K_IO
    REPORT "e1000e.io"
3:
    # (a) directly mapped BAR reads.
    mov EDU_BAR, %esi
    test %esi, %esi
    jz 10f
    mov $WARMUP, %ecx
4:  mov (%esi), %eax
    loop 4b
    REPORT "mark.mapped.start"
    TSC_START
    mov $N_MAPPED, %ecx
5:  mov (%esi), %eax
    loop 5b
    mov %eax, %ebx
    TSC_END N_MAPPED, "mapped.cycles"
    mov %ebx, %eax
    REPORT "mapped.value"

    # (b) config reads through CF8/CFC (edu's; without edu, the host bridge's at 00:00.0).
10: mov EDU_FN, %ebx
    test %ebx, %ebx
    jnz 17f
    mov $0x80000000, %ebx
17:
    xor %ecx, %ecx
    mov $WARMUP, %edi
6:  call pci_read32
    dec %edi
    jnz 6b
    REPORT "mark.config.start"
    TSC_START
    xor %ecx, %ecx
    mov $N_CONFIG, %edi
7:  call pci_read32
    dec %edi
    jnz 7b
    mov %eax, %ebx
    TSC_END N_CONFIG, "config.cycles"
    mov %ebx, %eax
    REPORT "config.value"

    # (e) MSI round trip (edu raises, the handler acknowledges).
    mov EDU_FN, %ebx
    test %ebx, %ebx
    jz 18f
    mov $0x40, %eax
    mov $irq_handler, %edx
    call idt_set
    movl $edu_irq_hook, IRQ_HOOK
    call lapic_enable
    mov $0x40, %eax
    call msi_enable
    jz 18f
    mov EDU_BAR, %esi
    mov $1, %edi
8:  movl $1, 0x60(%esi)
    mov %edi, %eax
    call wait_irq
    inc %edi
    cmp $WARMUP, %edi
    jbe 8b
    REPORT "mark.msi.start"
    TSC_START
    mov $N_MSI, %ebp
9:  movl $1, 0x60(%esi)
    mov %edi, %eax
    call wait_irq
    inc %edi
    dec %ebp
    jnz 9b
    TSC_END N_MSI, "msi.cycles"
    mov IRQ_COUNT, %eax
    REPORT "msi.count"

18: # (c) MSI-X table writes (entry 0 message data; vector control stays masked).
    mov NVME_TABLE, %esi
    test %esi, %esi
    jz 13f
    mov $WARMUP, %ecx
11: mov %ecx, 8(%esi)
    loop 11b
    REPORT "mark.msix.start"
    TSC_START
    mov $N_MSIX, %ecx
12: mov %ecx, 8(%esi)
    loop 12b
    TSC_END N_MSIX, "msix.cycles"
    movl $0x4321, 8(%esi)
    mov 8(%esi), %eax
    REPORT "msix.readback"

13: # (d) trapped I/O BAR reads: e1000e IODATA with IOADDR = STATUS.
    mov E1K_IO, %edx
    test %edx, %edx
    jz 16f
    mov $E1K_STATUS, %eax
    out %eax, %dx
    add $4, %edx
    mov $WARMUP, %ecx
14: in %dx, %eax
    loop 14b
    REPORT "mark.ioport.start"
    TSC_START
    mov E1K_IO, %edx
    add $4, %edx
    mov $N_IOPORT, %ecx
15: in %dx, %eax
    loop 15b
    mov %eax, %ebx
    TSC_END N_IOPORT, "ioport.cycles"
    mov %ebx, %eax
    REPORT "ioport.value"
16: xor %eax, %eax
    ret

# Called by irq_handler: read edu's interrupt status, remember it, acknowledge it.
edu_irq_hook:
    mov EDU_BAR, %esi
    mov 0x24(%esi), %eax
    mov %eax, EDU_IRQ_STATUS
    mov %eax, 0x64(%esi)
    ret
