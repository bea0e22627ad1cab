/**
 * Test fixtures published in the vfio-passthrough test-jar: a fake VFIO kernel behind the syscall seam
 * ({@link org.vfio4j.vfio.testing.FakeVfioKernel}), simulated devices ({@link org.vfio4j.vfio.testing.FakeVfioDevice})
 * and a fake sysfs tree ({@link org.vfio4j.vfio.testing.FakeSysfs}). They follow the uAPI byte for byte and exist only
 * for what the real kernel can't be made to produce on the build host. For the tests that do run on the real kernel,
 * in the testbed guest, {@link org.vfio4j.vfio.testing.TestbedDevices} says where its devices are.
 */
package org.vfio4j.vfio.testing;
