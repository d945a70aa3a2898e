/* tinykern-report's entry point (the report itself is report.c, also run in-process by the tests). */
#include "report.h"

int main(int argc, char **argv) { return tk_report_main(argc, argv); }
