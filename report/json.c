/* A small streaming JSON writer for the report's --json output. */
#include "json.h"

#include <math.h>

enum { MAX_DEPTH = 31 };

void rp_json_init(rp_json *j, FILE *f) {
  j->f = f;
  j->depth = 0;
  j->need_comma[0] = false;
}

static void put_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p == '\t')
      fputs("\\t", f);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* The separator, indentation and "key": of the next member. */
static void member(rp_json *j, const char *key) {
  if (j->need_comma[j->depth]) fputc(',', j->f);
  if (j->depth > 0) fputc('\n', j->f);
  for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
  if (key) {
    put_string(j->f, key);
    fputs(": ", j->f);
  }
  j->need_comma[j->depth] = true;
}

static void open_level(rp_json *j, const char *key, char opener, char closer) {
  if (!j->f || j->depth == MAX_DEPTH) return;
  member(j, key);
  fputc(opener, j->f);
  j->depth++;
  j->need_comma[j->depth] = false;
  j->closer[j->depth] = closer;
}

void rp_json_object(rp_json *j, const char *key) { open_level(j, key, '{', '}'); }
void rp_json_array(rp_json *j, const char *key) { open_level(j, key, '[', ']'); }

void rp_json_end(rp_json *j) {
  if (!j->f || j->depth == 0) return;
  bool had_members = j->need_comma[j->depth];
  char closer = j->closer[j->depth];
  j->depth--;
  if (had_members) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
  }
  fputc(closer, j->f);
  if (j->depth == 0) fputc('\n', j->f);
}

void rp_json_num(rp_json *j, const char *key, double v) {
  if (!j->f) return;
  member(j, key);
  if (isfinite(v))
    fprintf(j->f, "%.9g", v);
  else
    fputs("null", j->f);
}

void rp_json_uint(rp_json *j, const char *key, size_t v) {
  if (!j->f) return;
  member(j, key);
  fprintf(j->f, "%zu", v);
}

void rp_json_str(rp_json *j, const char *key, const char *s) {
  if (!j->f) return;
  member(j, key);
  if (s)
    put_string(j->f, s);
  else
    fputs("null", j->f);
}

void rp_json_bool(rp_json *j, const char *key, bool v) {
  if (!j->f) return;
  member(j, key);
  fputs(v ? "true" : "false", j->f);
}
