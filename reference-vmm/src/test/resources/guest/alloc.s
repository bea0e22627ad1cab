# alloc: the trapped exit path's allocation check (ExitPathAllocationTest). For each kind of trapped access, WINDOWS
# windows of N accesses; before each window, and after the last, the program writes a mark to the VMM request port
# (0x404): (kind << 4) | window, and (kind << 4) | 0xf at the end. The VMM reads the vCPU thread's allocation
# counter at each mark, so the bytes a window allocated are the bytes its N accesses (N + 1 exits for the last
# request) allocated. The last value each kind read is reported as "kindK.value".
#   1  config read of the host bridge's vendor/device id through CF8/CFC (2 port-I/O exits)
#   2  config read through CF8/CFC of a register that FUNCTION passes through to its backing (2 exits + a pread)
#   3  ECAM read of the host bridge's vendor/device id (1 MMIO exit)
#   4  port read forwarded to a region (1 port-I/O exit + a pread), at IO_PORT
#   5  MSI-X table write, MSI-X disabled (1 MMIO exit), at MSIX_TABLE
.ifndef N
.set N, 20000
.endif
.ifndef WINDOWS
.set WINDOWS, 6
.endif
.ifndef FUNCTION
.set FUNCTION, 0x80001800
.endif
.ifndef PT_REG
.set PT_REG, 0x40
.endif
.ifndef IO_PORT
.set IO_PORT, 0x6000
.endif
.ifndef MSIX_TABLE
.set MSIX_TABLE, 0xd0000000
.endif
.set REQUEST_PORT, 0x404
.set ECAM, 0xb0000000

# WINDOWS_OF kind, op: the windows of one kind; op is a routine that makes one access and leaves its value in eax.
.macro WINDOWS_OF kind, op
    xor %esi, %esi
1:  mov %esi, %eax
    or $(\kind << 4), %eax
    call mark
    mov $N, %edi
2:  call \op
    dec %edi
    jnz 2b
    inc %esi
    cmp $WINDOWS, %esi
    jb 1b
    mov %eax, %ebp
    mov $((\kind << 4) | 0xf), %eax
    call mark
    mov %ebp, %eax
    REPORT "kind\kind\().value"
.endm

main:
    WINDOWS_OF 1, op_hostbridge
    WINDOWS_OF 2, op_passthrough
    WINDOWS_OF 3, op_ecam
    WINDOWS_OF 4, op_port
    WINDOWS_OF 5, op_msix
    xor %eax, %eax
    ret

mark:                               # al = mark
    push %edx
    mov $REQUEST_PORT, %dx
    out %al, %dx
    pop %edx
    ret

op_hostbridge:
    push %ebx
    push %ecx
    mov $0x80000000, %ebx
    xor %ecx, %ecx
    call pci_read32
    pop %ecx
    pop %ebx
    ret

op_passthrough:
    push %ebx
    push %ecx
    mov $FUNCTION, %ebx
    mov $PT_REG, %ecx
    call pci_read32
    pop %ecx
    pop %ebx
    ret

op_ecam:
    mov ECAM, %eax
    ret

op_port:
    push %edx
    mov $IO_PORT, %dx
    in %dx, %eax
    pop %edx
    ret

op_msix:
    movl $0x4321, MSIX_TABLE + 8
    mov $0x4321, %eax
    ret
