/** History backfill straight into the master dataset (batch only). */
export { importJsonl, MAX_LISTED_INVALID, type ImportOptions, type ImportProgress, type ImportReport, type InvalidLine } from './import-jsonl.js';
export { progressReporter, renderProgressLine, type ProgressOutput, type ProgressReporter } from './progress.js';
