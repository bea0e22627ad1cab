# vfio4j guest programs: common head. Assembled as one unit: head.s, then the program (which defines main), then
# tail.s. The result is a flat 64 KiB BIOS-style image linked at ROM_BASE, ending at 4 GiB, with the reset vector
# at 0xfffffff0, so the same binary runs under vfio4j's harness (image mapped read-only at the top of 4 GiB) and
# under QEMU (-bios prog.bin).
#
# Protocol (same under both VMMs):
#   port 0x402 (isa-debugcon): text lines. "key=0x1234abcd" lines are results, "# ..." lines are comments.
#   port 0x501 (isa-debug-exit, iosize 1): the exit code main returned; the program then halts for good.
# Calling convention of the helpers: arguments and results in registers as documented, everything else preserved.
# Guest RAM used: IDT at 0x1000, variables at 0x2000, stack below 0x80000. Programs use RAM from 0x100000 up.

.set ROM_BASE,   0xffff0000
.set DEBUGCON,   0x402
.set EXIT_PORT,  0x501
.set STACK_TOP,  0x80000
.set IDT_BASE,   0x1000
.set VARS,       0x2000
.set IRQ_COUNT,  VARS + 0x00      # interrupts taken by irq_handler
.set IRQ_RESUME, VARS + 0x04      # where irq_handler continues (inside wait_irq)
.set IRQ_ESP,    VARS + 0x08      # the stack pointer to continue with
.set IRQ_TARGET, VARS + 0x0c      # wait_irq's target count
.set IRQ_HOOK,   VARS + 0x10      # program routine called by irq_handler before the EOI (0: none)
.set MEM_NEXT,   VARS + 0x14      # next free 32-bit memory BAR address
.set IO_NEXT,    VARS + 0x18      # next free I/O BAR address
.set BAR_ADDR,   VARS + 0x40      # 7 dwords: addresses assigned to BAR0..5 and the ROM (0: none)
.set BAR_SIZE,   VARS + 0x60      # 7 dwords: their sizes
.set LAPIC,      0xfee00000
.set LAPIC_EOI,  LAPIC + 0xb0
.set LAPIC_SVR,  LAPIC + 0xf0
.set PCI_ADDR,   0xcf8
.set PCI_DATA,   0xcfc

.ifndef MMIO_BASE
.set MMIO_BASE, 0xe0000000
.endif
.ifndef IO_BASE
.set IO_BASE, 0xc000
.endif

# REPORT "key": prints "key=<eax in hex>\n". Preserves every register.
.macro REPORT key
    call report_inline
    .asciz "\key"
.endm

# SAY "text": prints "# text\n". Preserves every register.
.macro SAY text
    call say_inline
    .asciz "\text"
.endm

.code16
rom_start:
reset16:
    cli
    cld
    # CS base is 0xffff0000 until the far jump, so CS-relative addressing reaches the descriptor in the image.
    lgdtl %cs:(gdtr - rom_start)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $start32

.code32
start32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $STACK_TOP, %esp
    # The variables live in RAM: clear them before use.
    mov $VARS, %edi
    mov $0x100, %ecx
    xor %eax, %eax
    rep stosb
    movl $MMIO_BASE, MEM_NEXT
    movl $IO_BASE, IO_NEXT
    call idt_init
    SAY "vfio4j guest program"
    call main
    jmp exit

# exit: eax = exit code. Reports it, writes it to the exit port, halts with interrupts off.
exit:
    REPORT "exit"
    mov $EXIT_PORT, %dx
    out %al, %dx
1:  cli
    hlt
    jmp 1b

# --- debugcon output ---------------------------------------------------------------------------------------------
putc:                               # al
    push %edx
    mov $DEBUGCON, %dx
    out %al, %dx
    pop %edx
    ret

putsi:                              # esi -> NUL-terminated; returns esi past the NUL
    push %eax
1:  lodsb
    test %al, %al
    jz 2f
    call putc
    jmp 1b
2:  pop %eax
    ret

puthex:                             # eax, as 0x + 8 hex digits
    push %eax
    push %ecx
    push %edx
    mov %eax, %edx
    mov $'0', %al
    call putc
    mov $'x', %al
    call putc
    mov $8, %ecx
1:  rol $4, %edx
    mov %dl, %al
    and $0xf, %al
    cmp $10, %al
    jb 2f
    add $('a' - 10), %al
    jmp 3f
2:  add $'0', %al
3:  call putc
    loop 1b
    pop %edx
    pop %ecx
    pop %eax
    ret

report_inline:                      # the return address points at the key string
    xchg %esi, (%esp)
    call putsi
    push %eax
    mov $'=', %al
    call putc
    pop %eax
    call puthex
    push %eax
    mov $'\n', %al
    call putc
    pop %eax
    xchg %esi, (%esp)
    ret

say_inline:
    xchg %esi, (%esp)
    push %eax
    mov $'#', %al
    call putc
    mov $' ', %al
    call putc
    call putsi
    mov $'\n', %al
    call putc
    pop %eax
    xchg %esi, (%esp)
    ret

# --- PCI configuration mechanism 1 (CF8/CFC) ----------------------------------------------------------------------
# ebx = function address (0x80000000 | bus << 16 | devfn << 8), ecx = register offset.
pci_select:                         # internal: writes CF8 for (ebx, ecx); returns dx = CFC + (ecx & 3)
    push %eax
    mov %ecx, %eax
    and $0xfc, %eax
    or %ebx, %eax
    mov $PCI_ADDR, %dx
    out %eax, %dx
    mov %ecx, %edx
    and $3, %edx
    add $PCI_DATA, %edx
    pop %eax
    ret

pci_read32:                         # -> eax
    push %edx
    call pci_select
    in %dx, %eax
    pop %edx
    ret

pci_read16:                         # -> eax (zero-extended)
    push %edx
    call pci_select
    xor %eax, %eax
    in %dx, %ax
    pop %edx
    ret

pci_read8:                          # -> eax (zero-extended)
    push %edx
    call pci_select
    xor %eax, %eax
    in %dx, %al
    pop %edx
    ret

pci_write32:                        # eax = value
    push %edx
    call pci_select
    out %eax, %dx
    pop %edx
    ret

pci_write16:                        # ax = value
    push %edx
    call pci_select
    out %ax, %dx
    pop %edx
    ret

pci_write8:                         # al = value
    push %edx
    call pci_select
    out %al, %dx
    pop %edx
    ret

# pci_find: eax = vendor | device << 16. Scans bus 0. Returns ebx = function address, or 0 (and ZF set) if absent.
pci_find:
    push %eax
    push %ecx
    push %edx
    mov %eax, %edx
    mov $0x80000000, %ebx
1:  xor %ecx, %ecx
    call pci_read32
    cmp %edx, %eax
    je 3f
    add $0x100, %ebx
    cmp $0x80010000, %ebx
    jb 1b
    xor %ebx, %ebx
3:  pop %edx
    pop %ecx
    pop %eax
    test %ebx, %ebx
    ret

# pci_find_cap: ebx = function, al = capability id. Returns ecx = its offset, or 0 (and ZF set) if absent.
pci_find_cap:
    push %eax
    push %edx
    mov %al, %dl
    mov $0x06, %ecx                 # status: bit 4 says there is a capability list
    call pci_read16
    xor %ecx, %ecx
    test $0x10, %al
    jz 3f
    mov $0x34, %ecx
    call pci_read8
    mov $48, %dh                    # at most 48 capabilities fit: never loop on a broken chain
1:  and $0xfc, %eax
    jz 2f
    mov %eax, %ecx
    call pci_read8
    cmp %dl, %al
    je 3f
    inc %ecx
    call pci_read8
    dec %dh
    jnz 1b
2:  xor %ecx, %ecx
3:  pop %edx
    pop %eax
    test %ecx, %ecx
    ret

# pci_setup: ebx = function. Sizes and assigns BAR0..5 and the ROM like firmware would (each aligned to its size,
# at least a page for memory), records them in BAR_ADDR/BAR_SIZE, reports "barN"/"barNsize", then enables I/O and
# memory decode and bus mastering.
pci_setup:
    pusha
    xor %edi, %edi                  # BAR index
    xor %eax, %eax
    mov $0x04, %ecx                 # decode off while sizing
    call pci_write16
1:  lea 0x10(,%edi,4), %ecx
    call pci_read32
    mov %eax, %esi                  # original value: type bits
    mov $0xffffffff, %eax
    call pci_write32
    call pci_read32
    test %eax, %eax
    jz 8f                           # not implemented
    test $1, %esi
    jz 2f
    # I/O BAR: 16-bit decoders may read 0 in the upper half.
    or $0xffff0000, %eax
    and $0xfffffffc, %eax
    not %eax
    inc %eax                        # size
    mov IO_NEXT, %edx
    call align_up
    mov %edx, %ebp
    add %eax, %edx
    mov %edx, IO_NEXT
    jmp 5f
2:  and $0xfffffff0, %eax
    not %eax
    inc %eax                        # size (a memory BAR below 4 GiB)
    push %eax
    cmp $0x1000, %eax               # memory BARs get at least a page of their own, so they can be mmapped
    jae 3f
    mov $0x1000, %eax
3:  mov MEM_NEXT, %edx
    call align_up
    mov %edx, %ebp
    add %eax, %edx
    mov %edx, MEM_NEXT
    pop %eax
5:  mov %ebp, BAR_ADDR(,%edi,4)
    mov %eax, BAR_SIZE(,%edi,4)
    push %eax
    mov %ebp, %eax
    call pci_write32
    mov $'b', %al
    call putc
    mov $'a', %al
    call putc
    mov $'r', %al
    call putc
    mov %edi, %eax
    add $'0', %al
    call putc
    pop %eax
    push %eax
    mov %ebp, %eax
    REPORT ""
    mov $'b', %al
    call putc
    mov $'a', %al
    call putc
    mov $'r', %al
    call putc
    mov %edi, %eax
    add $'0', %al
    call putc
    pop %eax
    REPORT "size"
    # A 64-bit memory BAR: the upper half is 0 (everything is placed below 4 GiB); skip it.
    test $1, %esi
    jnz 8f
    mov %esi, %edx
    and $6, %edx
    cmp $4, %edx
    jne 8f
    inc %edi
    add $4, %ecx
    xor %eax, %eax
    call pci_write32
8:  inc %edi
    cmp $6, %edi
    jb 1b
    # Expansion ROM BAR (type 0 header): sizing pattern 0xfffff800, enable bit 0.
    mov $0x30, %ecx
    mov $0xfffff800, %eax
    call pci_write32
    call pci_read32
    and $0xfffff800, %eax
    jz 9f
    not %eax
    inc %eax
    mov MEM_NEXT, %edx
    call align_up
    mov %edx, %ebp
    add %eax, %edx
    mov %edx, MEM_NEXT
    mov %ebp, BAR_ADDR + 24
    mov %eax, BAR_SIZE + 24
    REPORT "romsize"
    mov %ebp, %eax
    REPORT "rom"
    or $1, %eax
    call pci_write32
9:  mov $0x04, %ecx
    call pci_read16
    or $0x0007, %eax                # I/O space, memory space, bus master
    call pci_write16
    call pci_read16
    REPORT "command"
    popa
    ret

align_up:                           # edx = edx rounded up to a multiple of eax (a power of two)
    push %eax
    dec %eax
    add %eax, %edx
    not %eax
    and %eax, %edx
    pop %eax
    ret

# --- interrupts: IDT in RAM, local APIC, one handler that counts --------------------------------------------------
idt_init:                           # every vector -> unexpected; loads the IDT
    pusha
    xor %eax, %eax
1:  mov $unexpected_interrupt, %edx
    call idt_set
    inc %eax
    cmp $256, %eax
    jb 1b
    lidt idtr
    popa
    ret

idt_set:                            # eax = vector, edx = handler: a 32-bit interrupt gate, ring 0
    push %edi
    push %edx
    lea IDT_BASE(,%eax,8), %edi
    movw %dx, (%edi)
    movw $0x08, 2(%edi)
    movw $0x8e00, 4(%edi)
    shr $16, %edx
    movw %dx, 6(%edi)
    pop %edx
    pop %edi
    ret

unexpected_interrupt:
    SAY "unexpected interrupt or exception"
    mov (%esp), %eax
    REPORT "fault.stack0"
    mov $0xee, %eax
    jmp exit

lapic_enable:                       # software-enables the local APIC (SVR bit 8, spurious vector 0xff)
    movl $0x1ff, LAPIC_SVR
    ret

# irq_handler: counts, calls IRQ_HOOK, EOIs, and continues at IRQ_RESUME on IRQ_ESP with interrupts off. It never
# returns with iret: interrupts are only ever enabled inside wait_irq, which is where it continues. (A nested KVM
# that emulates the instructions after an EOI can't emulate a protected-mode iret.)
irq_handler:
    pusha
    incl IRQ_COUNT
    mov IRQ_HOOK, %eax
    test %eax, %eax
    jz 1f
    call *%eax
1:  movl $0, LAPIC_EOI
    popa
    mov IRQ_ESP, %esp
    jmp *IRQ_RESUME

# wait_irq: eax = interrupt count to wait for. Halts with interrupts on until IRQ_COUNT reaches it; returns with
# interrupts off and eax = IRQ_COUNT; other registers are preserved.
wait_irq:
    mov %eax, IRQ_TARGET
    movl $1f, IRQ_RESUME
    mov %esp, IRQ_ESP
1:  mov IRQ_COUNT, %eax
    cmp IRQ_TARGET, %eax
    jae 2f
    sti
    hlt
    cli
    jmp 1b
2:  ret

# --- MSI and MSI-X programming ------------------------------------------------------------------------------------
# msi_enable: ebx = function, eax = vector. Points the MSI capability at local APIC 0 (fixed delivery, edge) with one
# vector and enables it. Returns ecx = capability offset, or 0 (ZF set) if the function has no MSI.
msi_enable:
    push %eax
    push %edx
    mov %eax, %edx
    mov $0x05, %al
    call pci_find_cap
    jz 9f
    push %ecx
    mov $0xfee00000, %eax
    add $4, %ecx
    call pci_write32
    pop %ecx
    push %ecx
    add $2, %ecx
    call pci_read16                 # message control: bit 7 = 64-bit address
    pop %ecx
    push %ecx
    test $0x80, %al
    jz 1f
    add $8, %ecx
    xor %eax, %eax
    call pci_write32                # upper address
    add $4, %ecx                    # data at +0x0c
    jmp 2f
1:  add $8, %ecx                    # data at +0x08
2:  mov %edx, %eax
    call pci_write16
    pop %ecx
    push %ecx
    add $2, %ecx
    call pci_read16
    and $0xff8e, %eax               # one vector (MME = 0), MSI enable
    or $1, %eax
    call pci_write16
    pop %ecx
9:  pop %edx
    pop %eax
    test %ecx, %ecx
    ret

# msix_locate: ebx = function. Returns ecx = MSI-X capability offset (0 and ZF set if none), eax = the guest address
# of the vector table (from BAR_ADDR, so after pci_setup), edx = table size (entries).
msix_locate:
    push %esi
    mov $0x11, %al
    call pci_find_cap
    jz 9f
    push %ecx
    add $2, %ecx
    call pci_read16
    and $0x7ff, %eax
    inc %eax
    mov %eax, %edx
    pop %ecx
    push %ecx
    add $4, %ecx
    call pci_read32                 # table offset | BIR
    mov %eax, %esi
    and $7, %esi
    and $0xfffffff8, %eax
    add BAR_ADDR(,%esi,4), %eax
    pop %ecx
9:  pop %esi
    test %ecx, %ecx
    ret

# msix_control: ebx = function, ecx = MSI-X capability, eax = bits to set in message control, edx = bits to clear.
msix_control:
    push %eax
    push %ecx
    push %edx
    push %eax
    add $2, %ecx
    call pci_read16
    not %edx
    and %edx, %eax
    pop %edx
    or %edx, %eax
    call pci_write16
    pop %edx
    pop %ecx
    pop %eax
    ret

# poll_clear: esi = address, eax = bit mask. Reads the dword at esi until (value & mask) == 0 or POLL_LIMIT reads.
# Returns eax = reads left (0 means it never cleared: the caller reports it).
.ifndef POLL_LIMIT
.set POLL_LIMIT, 0x4000000
.endif
poll_clear:
    push %ecx
    push %edx
    mov %eax, %edx
    mov $POLL_LIMIT, %ecx
1:  test %edx, (%esi)
    jz 2f
    loop 1b
2:  mov %ecx, %eax
    pop %edx
    pop %ecx
    ret

# poll_set: as poll_clear, until (value & mask) != 0.
poll_set:
    push %ecx
    push %edx
    mov %eax, %edx
    mov $POLL_LIMIT, %ecx
1:  test %edx, (%esi)
    jnz 2f
    loop 1b
2:  mov %ecx, %eax
    pop %edx
    pop %ecx
    ret

# fill_pattern: edi = buffer, ecx = dwords. dword i = (i * 0x9e3779b1) ^ 0x5a5a5a5a.
fill_pattern:
    pusha
    xor %edx, %edx
1:  imul $0x9e3779b1, %edx, %eax
    xor $0x5a5a5a5a, %eax
    mov %eax, (%edi,%edx,4)
    inc %edx
    cmp %ecx, %edx
    jb 1b
    popa
    ret

# count_diff: esi, edi = buffers, ecx = dwords. Returns eax = dwords that differ.
count_diff:
    push %ecx
    push %edx
    push %esi
    push %edi
    xor %eax, %eax
1:  mov (%esi), %edx
    cmp (%edi), %edx
    je 2f
    inc %eax
2:  add $4, %esi
    add $4, %edi
    loop 1b
    pop %edi
    pop %esi
    pop %edx
    pop %ecx
    ret
