/**
 * The x86-64 Linux boot protocol for the reference VMM, without KVM: reading a bzImage ({@link
 * org.vfio4j.refvmm.linux.boot.BzImage}), building the zero page ({@link org.vfio4j.refvmm.linux.boot.BootParams}),
 * the GDT and identity page tables of the 64-bit entry ({@link org.vfio4j.refvmm.linux.boot.LongModeTables}), and
 * placing kernel, initrd and command line in guest RAM ({@link org.vfio4j.refvmm.linux.boot.LinuxLoader}). Every
 * layout follows {@code asm/bootparam.h} and Documentation/arch/x86/boot.rst.
 */
package org.vfio4j.refvmm.linux.boot;
