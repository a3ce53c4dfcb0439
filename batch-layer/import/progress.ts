/**
 * Progress of a long import for people: a redrawn bar on a terminal, or a log line every ~5% when
 * the output is a file or a pipe (where carriage-return redraws would only make noise).
 */
import type { Logger } from '../../platform/logger.js';
import type { ImportProgress } from './import-jsonl.js';

export interface ProgressOutput {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

const MB = 1024 * 1024;

function fraction(p: ImportProgress): number {
  return p.totalBytes > 0 ? Math.min(1, p.bytesRead / p.totalBytes) : 1;
}

/** One line, e.g. `import [#########...........]  45.0%  12.3/27.0 MB  120000 lines`. */
export function renderProgressLine(p: ImportProgress, label = 'import', width = 30): string {
  const f = fraction(p);
  const filled = Math.round(f * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const pct = `${(f * 100).toFixed(1)}%`.padStart(6);
  return `${label} [${bar}] ${pct}  ${(p.bytesRead / MB).toFixed(1)}/${(p.totalBytes / MB).toFixed(1)} MB  ${p.lines} lines`;
}

export interface ProgressReporter {
  onProgress(p: ImportProgress): void;
  /** ends the bar's line on a terminal */
  done(): void;
}

export function progressReporter(out: ProgressOutput, log: Logger, label = 'import'): ProgressReporter {
  let lastStep = -1;
  let lastDraw = 0;
  let drawn = false;
  return {
    onProgress(p) {
      if (out.isTTY) {
        const t = Date.now();
        if (t - lastDraw < 100 && fraction(p) < 1) return; // at most ~10 redraws a second
        lastDraw = t;
        drawn = true;
        out.write(`\r${renderProgressLine(p, label)}`);
        return;
      }
      const step = Math.floor(fraction(p) * 20); // every 5%
      if (step === lastStep) return;
      lastStep = step;
      log.info({ bytesRead: p.bytesRead, totalBytes: p.totalBytes, lines: p.lines, percent: step * 5 }, `${label} progress`);
    },
    done() {
      if (out.isTTY && drawn) out.write('\n');
    },
  };
}
