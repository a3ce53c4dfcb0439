/** `lambda-arch import FILE`: backfill history from a JSONL file straight into the master dataset. */
import { LambdaError } from '../../shared/errors.js';
import { importJsonl, progressReporter } from '../../batch-layer/import/index.js';
import type { Command } from '../args.js';
import { runtime } from '../runtime.js';
import { buildMaster } from '../wiring.js';

export const importCommand: Command = {
  name: 'import',
  usage: 'import FILE.jsonl',
  summary: 'Import history (one JSON event per line) into the master dataset for the batch layer; bad lines are reported by number.',
  options: {},
  optionHelp: {},
  async run({ env, positionals }) {
    const file = positionals[0];
    if (!file) throw new LambdaError('VALIDATION', 'import: name the JSONL file to import');
    const rt = runtime(env, 'stderr');
    const progress = progressReporter(process.stderr, rt.log, `import ${file}`);
    const report = await importJsonl(file, await buildMaster(rt), rt.views, { onProgress: progress.onProgress });
    progress.done();
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.invalidCount > 0 ? 3 : 0;
  },
};
