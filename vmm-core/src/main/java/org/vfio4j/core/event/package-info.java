/**
 * The eventfd loop on Netty 4.2 epoll ({@link org.vfio4j.core.event.EventLoop}) and the userspace interrupt
 * fallback built on it ({@link org.vfio4j.core.event.LoopInterruptController}).
 */
package org.vfio4j.core.event;
