/* A small streaming JSON writer for the report's --json output. */
#ifndef TK_REPORT_JSON_H
#define TK_REPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes to f, indented; commas and nesting are tracked here. Every call takes
   the member name `key` inside an object and NULL inside an array or at the top.
   A NULL f makes every call a no-op (no --json). */
typedef struct rp_json {
  FILE *f;
  int depth;
  bool need_comma[32]; /* per open level: a member was written */
  char closer[32];     /* per open level: '}' or ']' */
} rp_json;

void rp_json_init(rp_json *j, FILE *f);
void rp_json_object(rp_json *j, const char *key); /* opens { */
void rp_json_array(rp_json *j, const char *key);  /* opens [ */
void rp_json_end(rp_json *j);                     /* closes the innermost */
void rp_json_num(rp_json *j, const char *key, double v); /* non-finite: null */
void rp_json_uint(rp_json *j, const char *key, size_t v);
void rp_json_str(rp_json *j, const char *key, const char *s); /* NULL: null */
void rp_json_bool(rp_json *j, const char *key, bool v);

#endif
