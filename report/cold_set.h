/* How large a cold working set must be: the one rule the report and the bench binaries share (header only: both include it). */
#ifndef TK_REPORT_COLD_SET_H
#define TK_REPORT_COLD_SET_H

/* A "cold" figure is meant to read its data from DRAM: the report reads a
   buffer of this size before every cold call, the bench measures the DRAM
   roofline over it. The rule:

     cold set = 8 x the largest cache size any source reports, at least 256 MiB

   Why every source, not cpuinfo's L3: on a development VM (AMD EPYC, KVM)
   cpuinfo reported an 8 MiB L3 while the weights of a 16 MiB layer streamed
   at ~85 GB/s, i.e. from a larger L3: a set sized from the small figure
   stays partly cached and reads faster than DRAM can. A VM's CPU model
   and cache figures are whatever the hypervisor chose, and the sources do
   not always agree, so the largest figure of cpuinfo (every level) and of
   sysfs (/sys/devices/system/cpu/cpuN/cache/indexM/size) counts.
   Why 8x: AMD's L3 is a victim cache whose replacement is not exactly LRU,
   so reading a little more than its size can leave lines behind; 8x leaves
   next to none. Why 256 MiB at least: where no source knows the caches (qemu-user,
   containers without sysfs) or reports too little, 256 MiB is beyond the
   last-level cache of any single socket this library targets.

   Static functions in a header, not a source file: the report (report/) and
   the bench (bench/) are separate programs with separate meson targets, and
   this keeps the rule in one file without a third library. */

#include <cpuinfo.h>
#include <glob.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TK_COLD_SET_FACTOR 8
#define TK_COLD_SET_MIN ((size_t)256 << 20)

/* A sysfs cache "size" text ("32768K", "1M", "512") in bytes; 0 when it is
   not such a number. */
static inline size_t tk_cache_size_parse(const char *s) {
  size_t v = 0;
  int digits = 0;
  for (; *s >= '0' && *s <= '9'; s++, digits++) {
    if (v > (SIZE_MAX - 9) / 10) return 0;
    v = v * 10 + (size_t)(*s - '0');
  }
  if (!digits) return 0;
  unsigned shift = *s == 'K' ? 10 : *s == 'M' ? 20 : *s == 'G' ? 30 : 0;
  if (shift) s++;
  if (*s != 0 && *s != '\n') return 0;
  return v > (SIZE_MAX >> shift) ? 0 : v << shift;
}

/* The largest cache (any CPU, any level) that sysfs reports; 0 when it
   reports none (no sysfs, or no cache directories). */
static inline size_t tk_cache_largest_sysfs(void) {
  glob_t g;
  size_t largest = 0;
  if (glob("/sys/devices/system/cpu/cpu[0-9]*/cache/index[0-9]*/size", 0, NULL, &g) != 0) return 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    FILE *f = fopen(g.gl_pathv[i], "r");
    char line[32];
    if (!f) continue;
    if (fgets(line, sizeof line, f)) {
      size_t v = tk_cache_size_parse(line);
      largest = v > largest ? v : largest;
    }
    fclose(f);
  }
  globfree(&g);
  return largest;
}

/* The largest cache of any level that cpuinfo reports; 0 when it reports none
   or cannot initialize. */
static inline size_t tk_cache_largest_cpuinfo(void) {
  static uint32_t (*const count[])(void) = {cpuinfo_get_l1d_caches_count, cpuinfo_get_l2_caches_count,
                                            cpuinfo_get_l3_caches_count, cpuinfo_get_l4_caches_count};
  static const struct cpuinfo_cache *(*const get[])(uint32_t) = {cpuinfo_get_l1d_cache, cpuinfo_get_l2_cache,
                                                                 cpuinfo_get_l3_cache, cpuinfo_get_l4_cache};
  if (!cpuinfo_initialize()) return 0;
  size_t largest = 0;
  for (size_t level = 0; level < sizeof count / sizeof *count; level++)
    for (uint32_t i = 0; i < count[level](); i++) {
      const struct cpuinfo_cache *c = get[level](i);
      if (c && c->size > largest) largest = c->size;
    }
  return largest;
}

/* The largest cache size any source reports; 0 when none knows. */
static inline size_t tk_cache_largest(void) {
  size_t a = tk_cache_largest_cpuinfo(), b = tk_cache_largest_sysfs();
  return a > b ? a : b;
}

/* The rule on a given largest cache size (separate, so it can be tested). */
static inline size_t tk_cold_set_rule(size_t largest_cache) {
  size_t n = largest_cache > SIZE_MAX / TK_COLD_SET_FACTOR ? SIZE_MAX : largest_cache * TK_COLD_SET_FACTOR;
  return n > TK_COLD_SET_MIN ? n : TK_COLD_SET_MIN;
}

/* Bytes a cold working set must hold on this machine. */
static inline size_t tk_cold_set_bytes(void) { return tk_cold_set_rule(tk_cache_largest()); }

#endif
