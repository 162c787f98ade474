/* machine.h — what protections this machine can give, found by the kit's tests
 * themselves, apart from the grader: a test of a protection skips (KIT_SKIP)
 * where the machine cannot give it, and fails where the machine can and the
 * grader did not use it. */
#ifndef ALAB_MACHINE_H
#define ALAB_MACHINE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* bubblewrap makes its namespaces here, as the user student code runs as. */
static inline bool machine_has_bwrap(void)
{
    const char *as = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%sbwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin "
             "--symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev "
             "/usr/bin/true >/dev/null 2>&1",
             as);
    return system(cmd) == 0;
}

/* A memory-capping cgroup can be made: root, and a cgroup file system that
 * takes a new group (v1's memory controller, or v2's root). */
static inline bool machine_has_cgroup(void)
{
    if (geteuid() != 0)
        return false;
    static const char *const bases[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup", NULL};
    for (int i = 0; bases[i] != NULL; i++) {
        char probe[256];
        snprintf(probe, sizeof probe, "%s/alab-machine-probe-%d", bases[i], (int)getpid());
        char limit[300];
        snprintf(limit, sizeof limit, "%s/memory.limit_in_bytes", probe);
        char max[300];
        snprintf(max, sizeof max, "%s/memory.max", probe);
        if (mkdir(probe, 0755) == 0) {
            bool memory = access(limit, F_OK) == 0 || access(max, F_OK) == 0;
            rmdir(probe);
            if (memory)
                return true;
        }
    }
    return false;
}

#define BWRAP_MISSING "bubblewrap cannot make namespaces on this machine (a chroot, or a container without user namespaces): no private network, file system view or PID namespace"
#define CGROUP_MISSING "no cgroup can be made here (not root, or a container without a cgroup hierarchy): memory is capped by RLIMIT_AS, and the kill is not named"

#endif
