/* kit_view.h — the path under which the sandbox user reads the kit: the kit
 * itself, or a read-only copy where the kit sits in a directory closed to that
 * user (a root clone in /root). See kit_view.c. */
#ifndef ALAB_KIT_VIEW_H
#define ALAB_KIT_VIEW_H

/* root itself when uid (0: no sandbox user) may read it, else the copy's path;
 * dies with one line saying what to do when neither works. Owned by the caller. */
char *kit_view(const char *root, unsigned uid, unsigned gid);

#endif
