import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { progressReporter, renderProgressLine } from '../../batch-layer/import/progress.js';

const MB = 1024 * 1024;

describe('import progress', () => {
  it('renders a bar with percent, sizes and lines', () => {
    expect(renderProgressLine({ bytesRead: 5 * MB, totalBytes: 10 * MB, lines: 1234 }, 'import', 10)).toBe(
      'import [#####.....]  50.0%  5.0/10.0 MB  1234 lines',
    );
    expect(renderProgressLine({ bytesRead: 0, totalBytes: 0, lines: 0 }, 'x', 4)).toBe('x [####] 100.0%  0.0/0.0 MB  0 lines');
  });

  it('redraws in place on a terminal and ends the line when done', () => {
    const chunks: string[] = [];
    const r = progressReporter({ isTTY: true, write: (c: string) => chunks.push(c) }, pino({ level: 'silent' }));
    r.onProgress({ bytesRead: 1, totalBytes: 2, lines: 1 });
    r.onProgress({ bytesRead: 2, totalBytes: 2, lines: 2 });
    r.done();
    expect(chunks.every((c, i) => (i < chunks.length - 1 ? c.startsWith('\r') : c === '\n'))).toBe(true);
    expect(chunks.at(-2)).toContain('100.0%');
  });

  it('logs about every 5% when the output is not a terminal, and writes nothing to it', () => {
    const logged: { percent: number }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { percent: number }) });
    const chunks: string[] = [];
    const r = progressReporter({ isTTY: false, write: (c: string) => chunks.push(c) }, log);
    for (let b = 0; b <= 1000; b += 7) r.onProgress({ bytesRead: b, totalBytes: 1000, lines: b });
    r.onProgress({ bytesRead: 1000, totalBytes: 1000, lines: 1000 });
    r.done();
    expect(chunks).toEqual([]);
    expect(logged.map((l) => l.percent)).toEqual(Array.from({ length: 21 }, (_, i) => i * 5));
  });
});
