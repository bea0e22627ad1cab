# vfio4j guest programs: common tail. Descriptor tables and the reset vector at the end of the 64 KiB image.
.code32
.align 8
gdt:
    .quad 0
    .quad 0x00cf9b000000ffff        # 0x08: flat 32-bit code, accessed bit preset (the GDT is in ROM)
    .quad 0x00cf93000000ffff        # 0x10: flat 32-bit data, accessed bit preset
gdtr:
    .word gdtr - gdt - 1
    .long gdt
idtr:
    .word 256 * 8 - 1
    .long IDT_BASE

.org 0xfff0
.code16
.globl reset_vector
reset_vector:
    jmp reset16
.org 0x10000
