package org.vfio4j.vfio.platform;

/** How an interrupt line signals: what the firmware says, and what VFIO's AUTOMASKED flag says. */
public enum Trigger {
    /** Edge-triggered: each signal is one interrupt; VFIO does not mask it. */
    EDGE,
    /** Level-triggered: VFIO masks the line when it fires (AUTOMASKED) until it is unmasked after the guest's EOI. */
    LEVEL,
    /** The firmware does not say (a one-cell interrupt specifier, or type "none"). */
    UNKNOWN
}
