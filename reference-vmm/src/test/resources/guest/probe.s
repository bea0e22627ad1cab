# probe: enumerates PCI, finds VENDOR:DEVICE, places its BARs, reads BAR0 through whatever the VMM did with it,
# enables MSI on vector 0x40 and waits for one interrupt after a write to BAR1 (for an emulated function whose
# BAR1 write raises its MSI). The harness's own test of the guest library.
.ifndef VENDOR
.set VENDOR, 0x1af4
.endif
.ifndef DEVICE
.set DEVICE, 0x10f0
.endif
.ifndef READS
.set READS, 1000
.endif

main:
    mov $0x80000000, %ebx           # 00:00.0, the host bridge
    xor %ecx, %ecx
    call pci_read32
    REPORT "hostbridge.id"
    mov $(VENDOR | DEVICE << 16), %eax
    call pci_find
    jnz 1f
    SAY "device not found"
    mov $1, %eax
    ret
1:  mov %ebx, %eax
    REPORT "function"
    call pci_setup
    mov BAR_ADDR, %esi
    REPORT "mark.reads.start"
    mov (%esi), %edx
    mov $READS, %ecx
    xor %edi, %edi
2:  mov (%esi), %eax
    cmp %edx, %eax
    je 3f
    inc %edi
3:  loop 2b
    REPORT "mark.reads.end"
    mov %edx, %eax
    REPORT "bar0.word0"
    mov %edi, %eax
    REPORT "bar0.changed"
    mov $0x40, %eax
    mov $irq_handler, %edx
    call idt_set
    call lapic_enable
    call msi_enable
    jnz 4f
    SAY "no MSI capability"
    mov $2, %eax
    ret
4:  mov BAR_ADDR + 4, %esi
    movl $1, (%esi)                 # the emulated function raises its MSI
    mov $1, %eax
    call wait_irq
    REPORT "irq.count"
    xor %eax, %eax
    ret
