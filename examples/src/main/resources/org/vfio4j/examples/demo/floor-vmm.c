/*
 * floor-vmm: the least a VMM can do per exit, as the benchmark's floor (vfio4j-bench builds it with gcc at run time).
 *
 * It runs a flat guest image of org.vfio4j.refvmm.flat (64 KiB, mapped read-only to end at 4 GiB, entered at the
 * reset vector) on one vCPU with the in-kernel irqchip, RAM at 0, and answers the exits the image causes without
 * devices: CF8/CFC configuration mechanism #1 with one function, a host bridge at 00:00.0 answering its vendor and
 * device id (every other function and register reads all-ones), isa-debugcon on 0x402 (appended to the output
 * file) and isa-debug-exit on 0x501 (ends the run; the exit status is the guest's code). Nothing else: no device
 * model, no dispatch table, no locks. With --coalesced-cf8 the writes to 0xcf8 go through KVM's coalesced PIO ring
 * (as QEMU's q35 registers them) and are applied when the ring is drained at the next exit.
 *
 * Usage: floor-vmm IMAGE RAM_MIB OUTPUT [--coalesced-cf8]
 * Exit status: the guest's exit code, or 100 + a reason when the VMM failed. The exit count by reason is printed
 * to stderr as "floor-vmm exits: total N io N mmio N other N".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096 /* KVM_COALESCED_MMIO_MAX is written in terms of it */
#endif
#define IMAGE_SIZE 0x10000u
#define HOST_BRIDGE_ID 0x29c08086u /* the q35 host bridge's device and vendor id */

static void die(const char *what) {
    fprintf(stderr, "floor-vmm: %s: %s\n", what, strerror(errno));
    exit(101);
}

static uint32_t cf8;
static FILE *out;

static void pio_write(uint16_t port, uint32_t size, uint32_t value, int *done, int *code) {
    if (port == 0xcf8 && size == 4) {
        cf8 = value;
    } else if (port == 0x402) {
        fputc((int) (value & 0xff), out);
    } else if (port == 0x501) {
        *done = 1;
        *code = (int) (value & 0xff);
    }
}

static uint32_t pio_read(uint16_t port, uint32_t size) {
    if (port >= 0xcfc && port < 0xd00 && (cf8 & 0x80000000u)) {
        uint32_t value = (cf8 & 0x00ffff00u) == 0 && (cf8 & 0xfcu) == 0 ? HOST_BRIDGE_ID : 0xffffffffu;
        return value >> (8 * (port & 3));
    }
    if (port == 0xcf8 && size == 4) {
        return cf8;
    }
    return 0xffffffffu;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: floor-vmm IMAGE RAM_MIB OUTPUT [--coalesced-cf8]\n");
        return 102;
    }
    int coalesce = argc > 4 && strcmp(argv[4], "--coalesced-cf8") == 0;
    size_t ram = (size_t) strtoul(argv[2], NULL, 10) << 20;
    out = fopen(argv[3], "w");
    if (!out) die("output");

    int image_fd = open(argv[1], O_RDONLY);
    if (image_fd < 0) die("image");
    void *image = mmap(NULL, IMAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (image == MAP_FAILED) die("mmap image");
    if (read(image_fd, image, IMAGE_SIZE) != (ssize_t) IMAGE_SIZE) die("read image");
    close(image_fd);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) die("KVM_SET_TSS_ADDR");
    uint64_t identity = 0xfffbc000ul;
    if (ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) die("KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");

    void *mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) die("mmap ram");
    struct kvm_userspace_memory_region slot = {.slot = 0, .guest_phys_addr = 0, .memory_size = ram,
                                               .userspace_addr = (uint64_t) mem};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) die("ram memslot");
    struct kvm_userspace_memory_region rom = {.slot = 1, .flags = KVM_MEM_READONLY,
                                              .guest_phys_addr = 0x100000000ull - IMAGE_SIZE,
                                              .memory_size = IMAGE_SIZE, .userspace_addr = (uint64_t) image};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &rom) < 0) die("image memslot");

    int ring_page = 0;
    if (coalesce) {
        ring_page = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
        if (ring_page <= 0 || ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0) {
            fprintf(stderr, "floor-vmm: no coalesced PIO on this kernel\n");
            return 103;
        }
        struct kvm_coalesced_mmio_zone zone = {.addr = 0xcf8, .size = 4, .pio = 1};
        if (ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &zone) < 0) die("KVM_REGISTER_COALESCED_MMIO");
    }

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    /* the CPUID KVM supports, as every VMM sets it */
    int nent = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = nent;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    struct kvm_coalesced_mmio_ring *ring =
            coalesce ? (struct kvm_coalesced_mmio_ring *) ((char *) run + ring_page * getpagesize()) : NULL;
    /* The vCPU starts in the architectural reset state: real mode, CS base 0xffff0000, IP 0xfff0. */

    long exits = 0, io = 0, mmio = 0, other = 0;
    int done = 0, code = 0;
    while (!done) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            die("KVM_RUN");
        }
        exits++;
        if (ring) {
            while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
                struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->first];
                uint32_t v;
                memcpy(&v, e->data, 4);
                pio_write((uint16_t) e->phys_addr, e->len, v, &done, &code);
                __atomic_store_n(&ring->first, (ring->first + 1) % KVM_COALESCED_MMIO_MAX, __ATOMIC_RELEASE);
            }
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            io++;
            uint8_t *data = (uint8_t *) run + run->io.data_offset;
            for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
                uint32_t v = 0;
                if (run->io.direction == KVM_EXIT_IO_OUT) {
                    memcpy(&v, data, run->io.size);
                    pio_write(run->io.port, run->io.size, v, &done, &code);
                } else {
                    v = pio_read(run->io.port, run->io.size);
                    memcpy(data, &v, run->io.size);
                }
            }
            break;
        }
        case KVM_EXIT_MMIO:
            mmio++;
            if (!run->mmio.is_write) memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
            break;
        case KVM_EXIT_HLT:
            fprintf(stderr, "floor-vmm: guest halted before the exit port\n");
            done = 1;
            code = 104;
            break;
        case KVM_EXIT_SHUTDOWN:
        case KVM_EXIT_FAIL_ENTRY:
        case KVM_EXIT_INTERNAL_ERROR:
            fprintf(stderr, "floor-vmm: exit reason %u\n", run->exit_reason);
            done = 1;
            code = 105;
            break;
        default:
            other++;
            break;
        }
    }
    fclose(out);
    fprintf(stderr, "floor-vmm exits: total %ld io %ld mmio %ld other %ld\n", exits, io, mmio, other);
    return code;
}
