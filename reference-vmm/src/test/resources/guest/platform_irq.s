# platform_irq: a platform device passed through by vfio4j's VfioPlatformDevice, a virtio-mmio transport whose one
# region the VMM placed at PLAT_BASE (trapped: 0x200 bytes are not page-aligned) and whose level-triggered interrupt
# it routed to GSI PLAT_GSI of the in-kernel IOAPIC (above 15, where only the IOAPIC is wired). The program reads the virtio magic, version and device id, routes
# the GSI (level, active high, vector 0x43), and three times asks the VMM (request port, byte 1) to fire the host
# interrupt and waits for it. The handler reads and acknowledges the transport's interrupt status, then EOIs; vfio-
# platform masks the host line each time it fires, so the second and third interrupts arrive only if the EOI made
# KVM signal the resample eventfd and VFIO unmasked the line.
# Results: magic, version, device, irq.count1..3, irq.status1..3.
.ifndef PLAT_BASE
.set PLAT_BASE, 0xd0000000
.endif
.ifndef PLAT_GSI
.set PLAT_GSI, 20
.endif
.set IOAPIC, 0xfec00000
.set VECTOR, 0x43
.set REQUEST_PORT, 0x404
.set PLAT_STATUS, VARS + 0x84

.macro FIRE count, key_count, key_status
    mov $1, %al
    mov $REQUEST_PORT, %dx
    out %al, %dx
    mov $\count, %eax
    call wait_irq
    REPORT "\key_count"
    mov PLAT_STATUS, %eax
    REPORT "\key_status"
.endm

main:
    mov $PLAT_BASE, %esi
    mov (%esi), %eax
    REPORT "magic"
    mov $PLAT_BASE, %esi
    mov 4(%esi), %eax
    REPORT "version"
    mov $PLAT_BASE, %esi
    mov 8(%esi), %eax
    REPORT "device"
    # IOAPIC redirection entry: high dword destination APIC 0, low dword vector, level, active high, unmasked.
    mov $PLAT_GSI, %eax
    lea 0x11(,%eax,2), %edx
    movl %edx, IOAPIC
    movl $0, IOAPIC + 0x10
    dec %edx
    movl %edx, IOAPIC
    movl $(VECTOR | 1 << 15), IOAPIC + 0x10
    mov $VECTOR, %eax
    mov $irq_handler, %edx
    call idt_set
    movl $plat_irq_hook, IRQ_HOOK
    call lapic_enable
    FIRE 1, irq.count1, irq.status1
    FIRE 2, irq.count2, irq.status2
    FIRE 3, irq.count3, irq.status3
    xor %eax, %eax
    ret

# Called by irq_handler before the EOI: the transport's InterruptStatus (0x60), written back to InterruptACK (0x64).
plat_irq_hook:
    mov $PLAT_BASE, %esi
    mov 0x60(%esi), %eax
    mov %eax, PLAT_STATUS
    mov %eax, 0x64(%esi)
    ret
