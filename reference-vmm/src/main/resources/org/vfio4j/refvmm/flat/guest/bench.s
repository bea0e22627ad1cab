# bench: the issue-8 benchmark. One image, run by vfio4j's GuestMachine and by QEMU (-bios, -accel kvm, vfio-pci),
# timing each passthrough path with rdtsc. Devices (each optional: a missing one skips its measurements):
#   edu 1234:11e8 (BAR0 memory), nvme 1b36:0010 (MSI-X table in BAR0), e1000e 8086:10d3 (BAR2 I/O).
# Each measurement: WARMUP untimed operations, "mark.<op>.start", N operations between two rdtsc, then
# "<op>.cycles" = TSC cycles per operation (total / N) and "<op>.cycles.n" = N. The KVM exits a VMM stamps on the two
# lines are the exits of the N operations plus the debugcon writes of the "<op>.cycles" line itself (one port-I/O
# exit per character: the reader subtracts them). Every operation but the mapped reads is also timed one by one
# (rdtsc before and after each, into a histogram of 64 buckets per power of two): "<op>.p50", "<op>.p99" (the lower
# bound of the bucket holding that percentile, so within 1.6 % below it), "<op>.max", and "<op>.t90", the mean of the
# fastest 90 % of the operations (each bucket also sums its operations' cycles), so that a pause of the VMM
# (a GC, a safepoint, a preempted thread) shows even when the mean hides it. The per-operation rdtsc pair and the
# histogram update are inside the timed stretch, the same few dozen cycles for every VMM.
#   mapped   edu BAR0 id register reads (mapped: no exit expected)
#   confighb the host bridge's (00:00.0) vendor/device reads through CF8/CFC: every VMM emulates it, so this is the
#            trapped exit path alone, comparable with the C floor VMM and on a host without VFIO devices
#   config   edu vendor/device reads through CF8/CFC (a CF8 write and a CFC read each)
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
.set OP_T0, VARS + 0xa0
.set HIST_MAX, VARS + 0xa4
.set HIST, 0x3000                   # 2048 dwords (up to 0x5000): the per-operation histogram
.set HIST_BUCKETS, 2048
.set SUMS, 0x5000                   # 2048 qwords (up to 0x9000): the cycles of each bucket's operations
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

# HIST_REPORT n, key: reports key.p50, key.p99 and key.max from the histogram of n operations. Clobbers eax.
.macro HIST_REPORT n, key
    mov $((\n * 50 + 99) / 100), %eax
    call hist_pct
    REPORT "\key\().p50"
    mov $((\n * 99 + 99) / 100), %eax
    call hist_pct
    REPORT "\key\().p99"
    mov HIST_MAX, %eax
    REPORT "\key\().max"
    mov $((\n * 90) / 100), %eax
    call hist_trimmed
    REPORT "\key\().t90"
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

    # (b0) config reads through CF8/CFC of the host bridge at 00:00.0 (every VMM emulates it).
10: mov $0x80000000, %ebx
    call config_reads
    mov %eax, %ebx
    TSC_END N_CONFIG, "confighb.cycles"
    HIST_REPORT N_CONFIG, "confighb"
    mov %ebx, %eax
    REPORT "confighb.value"

    # (b) config reads through CF8/CFC of edu.
    mov EDU_FN, %ebx
    test %ebx, %ebx
    jz 19f
    call config_reads
    mov %eax, %ebx
    TSC_END N_CONFIG, "config.cycles"
    HIST_REPORT N_CONFIG, "config"
    mov %ebx, %eax
    REPORT "config.value"
19:

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
    call hist_reset
    TSC_START
    mov $N_MSI, %ebp
9:  call op_start
    movl $1, 0x60(%esi)
    mov %edi, %eax
    call wait_irq
    call hist_add
    inc %edi
    dec %ebp
    jnz 9b
    TSC_END N_MSI, "msi.cycles"
    HIST_REPORT N_MSI, "msi"
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
    call hist_reset
    TSC_START
    mov $N_MSIX, %ecx
12: call op_start
    mov %ecx, 8(%esi)
    call hist_add
    loop 12b
    TSC_END N_MSIX, "msix.cycles"
    HIST_REPORT N_MSIX, "msix"
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
    call hist_reset
    TSC_START
    mov E1K_IO, %edx
    add $4, %edx
    mov $N_IOPORT, %ecx
15: call op_start
    in %dx, %eax
    call hist_add
    loop 15b
    mov %eax, %ebx
    TSC_END N_IOPORT, "ioport.cycles"
    HIST_REPORT N_IOPORT, "ioport"
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

# config_reads: ebx = function. WARMUP untimed config reads of its register 0, then "mark.config.start" (or
# "mark.confighb.start" for the host bridge) and TSC_START, then N_CONFIG timed reads, each also into the histogram.
# Returns eax = the last value read; the caller ends the stretch with TSC_END. Clobbers ecx, edx, edi.
config_reads:
    xor %ecx, %ecx
    mov $WARMUP, %edi
1:  call pci_read32
    dec %edi
    jnz 1b
    cmp $0x80000000, %ebx
    jne 2f
    REPORT "mark.confighb.start"
    jmp 3f
2:  REPORT "mark.config.start"
3:  call hist_reset
    TSC_START
    mov $N_CONFIG, %edi
4:  call op_start
    call pci_read32
    call hist_add
    dec %edi
    jnz 4b
    ret

# hist_reset: empties the histogram. Preserves every register.
hist_reset:
    push %eax
    push %ecx
    push %edi
    mov $HIST, %edi
    mov $(HIST_BUCKETS * 3), %ecx       # the counts and the sums after them
    xor %eax, %eax
    rep stosl
    movl $0, HIST_MAX
    pop %edi
    pop %ecx
    pop %eax
    ret

# op_start: remembers the TSC (low half) as the start of one operation. Preserves every register.
op_start:
    push %eax
    push %edx
    rdtsc
    mov %eax, OP_T0
    pop %edx
    pop %eax
    ret

# hist_add: counts the cycles since op_start in the histogram: values below 64 in buckets 0-63, then 64 buckets per
# power of two (value v with its highest bit at p: bucket 64 * (p - 6) + (v >> (p - 6))). Keeps the maximum.
# Preserves every register.
hist_add:
    push %eax
    push %ecx
    push %edx
    rdtsc
    sub OP_T0, %eax
    mov %eax, %edx
    cmp HIST_MAX, %eax
    jbe 1f
    mov %eax, HIST_MAX
1:  cmp $64, %eax
    jae 2f
    mov %eax, %ecx
    jmp 3f
2:  bsr %eax, %ecx
    sub $6, %ecx
    shr %cl, %eax
    shl $6, %ecx
    add %eax, %ecx
3:  incl HIST(,%ecx,4)
    add %edx, SUMS(,%ecx,8)
    adcl $0, SUMS + 4(,%ecx,8)
    pop %edx
    pop %ecx
    pop %eax
    ret

# hist_pct: eax = a count. Returns eax = the lower bound (in cycles) of the first bucket at which the cumulative count
# reaches it. Preserves the other registers.
hist_pct:
    push %ecx
    push %edx
    xor %ecx, %ecx
    xor %edx, %edx
1:  add HIST(,%ecx,4), %edx
    cmp %eax, %edx
    jae 2f
    inc %ecx
    cmp $HIST_BUCKETS, %ecx
    jb 1b
    dec %ecx
2:  cmp $64, %ecx
    jb 3f
    mov %ecx, %eax
    and $63, %eax
    or $64, %eax
    shr $6, %ecx
    dec %ecx
    shl %cl, %eax
    jmp 4f
3:  mov %ecx, %eax
4:  pop %edx
    pop %ecx
    ret

# hist_trimmed: eax = k (at least 1). Returns eax = the mean cycles of the k fastest operations: whole buckets from
# the fastest, and the bucket where the k-th falls pro rata (its mean times the operations taken from it).
hist_trimmed:
    push %ebx
    push %ecx
    push %edx
    push %esi
    push %edi
    push %ebp
    mov %eax, %ebp
    mov %eax, %ebx
    xor %ecx, %ecx
    xor %esi, %esi
    xor %edi, %edi
1:  mov HIST(,%ecx,4), %eax
    cmp %ebx, %eax
    jae 3f
    add SUMS(,%ecx,8), %esi
    adc SUMS + 4(,%ecx,8), %edi
    sub %eax, %ebx
    inc %ecx
    cmp $HIST_BUCKETS, %ecx
    jb 1b
    jmp 4f
3:  test %ebx, %ebx
    jz 4f
    push %eax
    mov SUMS(,%ecx,8), %eax
    mov SUMS + 4(,%ecx,8), %edx
    divl (%esp)
    add $4, %esp
    mul %ebx
    add %eax, %esi
    adc %edx, %edi
4:  mov %esi, %eax
    mov %edi, %edx
    div %ebp
    pop %ebp
    pop %edi
    pop %esi
    pop %edx
    pop %ecx
    pop %ebx
    ret
