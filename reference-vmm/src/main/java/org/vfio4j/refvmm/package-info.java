/**
 * Reference VMMs built only on vfio4j's public API: {@code flat} runs small guest programs as firmware (the demo,
 * the benchmark and the end-to-end tests), {@code linux} boots a Linux kernel with passed-through devices. Not part
 * of the library jars.
 */
package org.vfio4j.refvmm;
