/* The optical handwritten digits set compiled into the report (generated from data/digits.csv.gz). */
#ifndef TK_REPORT_DIGITS_H
#define TK_REPORT_DIGITS_H

#define TK_DIGITS_COUNT 1797
#define TK_DIGITS_PIXELS 64 /* 8x8, row by row, each 0..16 */

extern const unsigned char tk_digits_pixels[TK_DIGITS_COUNT][TK_DIGITS_PIXELS];
extern const unsigned char tk_digits_labels[TK_DIGITS_COUNT]; /* 0..9 */

#endif
