/* Output of tritonc-perf in perf_analyzer's shapes: the console report,
 * the CSV latency report (-f), the profile export (--profile-export-file),
 * and an SVG plot of latency against throughput (--plot). */
#ifndef TC_TOOLS_PERF_REPORT_H
#define TC_TOOLS_PERF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "options.h"
#include "profiler.h"

void perf_report_settings(FILE *f, const perf_options *opts);
void perf_report_step(FILE *f, const perf_options *opts, const perf_step_result *r);
void perf_report_summary(FILE *f, const perf_options *opts, const perf_step_result *results,
                         size_t n);

/* Client latency shown in the summary, CSV and plot, in usec: the average,
 * or the --percentile one. */
uint64_t perf_report_latency_us(const perf_options *opts, const perf_step_result *r);

/* Each writer returns false (errno set) when the file cannot be written. */
bool perf_write_csv(const char *path, const perf_options *opts, const perf_step_result *results,
                    size_t n);
bool perf_write_profile(const char *path, const perf_options *opts, const perf_step_result *results,
                        size_t n, int64_t wall_offset_ns);
bool perf_write_svg(const char *path, const perf_options *opts, const perf_step_result *results,
                    size_t n);

#endif /* TC_TOOLS_PERF_REPORT_H */
