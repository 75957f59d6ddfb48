/* Source of the empty static library(ies) declared in meson.build (see the
 * comment there): Meson wants at least one source file per library. */
extern int ms_debian_placeholder_unused;
