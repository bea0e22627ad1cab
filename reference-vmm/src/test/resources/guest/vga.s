# vga: draws in the legacy VGA text buffer of a passed-through VGA function and programs its CRTC and attribute
# controller through the legacy I/O ports, which the VMM forwards through vfio-pci's VGA region (LegacyVgaQuirk).
# The function is left in text mode 3 by the testbed's firmware. Row 0 gets 40 full blocks (0xDB, bright white on
# black) in the even columns, row 2 a line of text; the CRTC cursor goes to row 3.
.set VGA_TEXT, 0xb8000

main:
    mov $(0x1234 | 0x1111 << 16), %eax
    call pci_find
    jnz 1f
    SAY "no 1234:1111 function"
    mov $1, %eax
    ret
1:  mov %ebx, %eax
    REPORT "function"
    mov $0x04, %ecx                 # command: I/O and memory space on, so the legacy ranges decode
    call pci_read16
    or $0x3, %ax
    call pci_write16
    # The whole 80x25 screen: spaces, grey on black.
    mov $VGA_TEXT, %edi
    mov $2000, %ecx
    mov $0x0720, %ax
    rep stosw
    # Row 0: a full block in every even column.
    mov $VGA_TEXT, %edi
    mov $40, %ecx
2:  movw $0x0fdb, (%edi)
    add $4, %edi
    loop 2b
    # Row 2: the message, yellow on blue.
    mov $(VGA_TEXT + 2 * 160), %edi
    mov $message, %esi
    mov $0x1e, %ah
3:  lodsb
    test %al, %al
    jz 4f
    stosw
    jmp 3b
4:  movzwl VGA_TEXT, %eax
    REPORT "text.word0"
    movzwl (VGA_TEXT + 2), %eax
    REPORT "text.word1"
    # CRTC (colour ports): cursor location 3 * 80 = 0x00f0, then read the low byte back.
    mov $0x3d4, %dx
    mov $0x0e, %al
    out %al, %dx
    inc %dx
    xor %al, %al
    out %al, %dx
    dec %dx
    mov $0x0f, %al
    out %al, %dx
    inc %dx
    mov $0xf0, %al
    out %al, %dx
    in %dx, %al
    movzbl %al, %eax
    REPORT "crtc.cursor_low"
    # Attribute controller: reading 0x3da resets its index/data flip-flop; index 0x11 (overscan colour) with
    # PAS (0x20) kept set so the display stays on; write black, read it back through 0x3c1.
    mov $0x3da, %dx
    in %dx, %al
    mov $0x3c0, %dx
    mov $0x31, %al
    out %al, %dx
    xor %al, %al
    out %al, %dx
    mov $0x3da, %dx
    in %dx, %al
    mov $0x3c0, %dx
    mov $0x31, %al
    out %al, %dx
    mov $0x3c1, %dx
    in %dx, %al
    movzbl %al, %eax
    REPORT "attr.overscan"
    mov $0x3da, %dx                  # leave the flip-flop in index state, palette access off (PAS on)
    in %dx, %al
    mov $0x3c0, %dx
    mov $0x20, %al
    out %al, %dx
    mov $0x3cc, %dx                  # miscellaneous output: bit 0 set = colour ports at 0x3d4
    in %dx, %al
    movzbl %al, %eax
    REPORT "misc.output"
    xor %eax, %eax
    ret

message:
    .asciz "vfio4j: VGA text through vfio-pci's VGA region"
