/* tinykern-report, the top: one call runs the whole report (main.c calls it; the test suite runs it in-process). */
#ifndef TK_REPORT_H
#define TK_REPORT_H

/* Parses the options, measures every section, prints the tables, writes the
   JSON and the charts. Returns the process exit status (0, 1: a measurement
   or output failed, 2: bad options or output file). */
int tk_report_main(int argc, char **argv);

#endif
