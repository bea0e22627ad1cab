/** Small helpers every module uses: {@link org.vfio4j.core.util.Closer} for release steps that must all run. */
package org.vfio4j.core.util;
