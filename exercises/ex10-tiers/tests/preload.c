/* preload.c — the kit's shim that makes cache.c, slab.c and buddy.c the process's malloc: the
 * grader's `[program lib]` (kind = shared) builds it with your files into a
 * library that real programs preload. The shim itself is grader/harness/
 * alab_shim.h: every function of the malloc family, counted for the grader's
 * probe and handed to your ti_ function.
 *
 * Kit code: do not copy it into your files, which define only ti_ names.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tiers.h"

#define ALAB_SHIM_PREFIX ti_
#include "alab_shim.h"
