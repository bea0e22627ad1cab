# edu_intx: edu's legacy interrupt (INTx), MSI left off. The program routes the function's pin through the
# in-kernel IOAPIC (level-triggered, active high, vector 0x42) and raises edu's interrupt three times; the handler
# acknowledges it in edu (which drops the line) and EOIs, which a VMM needs to see (resample) before the line can
# fire again. The GSI is vfio4j's default swizzle, 16 + (slot + pin - 1) % 4, unless INTX_GSI is given. Not for
# QEMU: without firmware nobody programs q35's PIRQ routing.
# Results: intx.pin, intx.gsi, irq.count1..3, irq.status1..3.
.ifndef VENDOR
.set VENDOR, 0x1234
.endif
.ifndef DEVICE
.set DEVICE, 0x11e8
.endif
.set IOAPIC, 0xfec00000
.set VECTOR, 0x42
.set EDU_BAR, VARS + 0x80
.set EDU_IRQ_STATUS, VARS + 0x84

.macro RAISE value, count, key_count, key_status
    movl $\value, 0x60(%esi)
    mov $\count, %eax
    call wait_irq
    REPORT "\key_count"
    mov EDU_IRQ_STATUS, %eax
    REPORT "\key_status"
.endm

main:
    mov $(VENDOR | DEVICE << 16), %eax
    call pci_find
    jnz 1f
    SAY "edu not found"
    mov $1, %eax
    ret
1:  mov %ebx, %eax
    REPORT "function"
    call pci_setup
    mov BAR_ADDR, %esi
    mov %esi, EDU_BAR
    mov $0x3d, %ecx
    call pci_read8
    REPORT "intx.pin"
    test %eax, %eax
    jnz 2f
    SAY "edu has no interrupt pin"
    mov $2, %eax
    ret
2:
.ifdef INTX_GSI
    mov $INTX_GSI, %eax
.else
    mov %ebx, %edx
    shr $11, %edx
    and $0x1f, %edx                 # slot
    lea -1(%eax,%edx), %eax
    and $3, %eax
    add $16, %eax
.endif
    REPORT "intx.gsi"
    # IOAPIC redirection entry: high dword destination APIC 0, low dword vector, level, active high, unmasked.
    lea 0x11(,%eax,2), %edx
    movl %edx, IOAPIC
    movl $0, IOAPIC + 0x10
    dec %edx
    movl %edx, IOAPIC
    movl $(VECTOR | 1 << 15), IOAPIC + 0x10
    mov $0x04, %ecx
    call pci_read16
    REPORT "command"
    mov $VECTOR, %eax
    mov $irq_handler, %edx
    call idt_set
    movl $edu_irq_hook, IRQ_HOOK
    call lapic_enable
    RAISE 0x1, 1, irq.count1, irq.status1
    RAISE 0x2, 2, irq.count2, irq.status2
    RAISE 0x4, 3, irq.count3, irq.status3
    xor %eax, %eax
    ret

# Called by irq_handler: read edu's interrupt status, remember it, acknowledge it (edu lowers its line).
edu_irq_hook:
    mov EDU_BAR, %esi
    mov 0x24(%esi), %eax
    mov %eax, EDU_IRQ_STATUS
    mov %eax, 0x64(%esi)
    ret
