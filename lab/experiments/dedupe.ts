/**
 * Lab experiment "dedupe": switch the speed layer's dedupe on or off at runtime, in every speed
 * instance, without a restart (issue 20), or hand it back to each instance's LAMBDA_SPEED_DEDUPE
 * ("default"), and show each partition's consumer obeying it. The switch stays until changed
 * again; `lambda-arch lab duplicates --dedupe off` switches for one run and back.
 */
import { changeControl, dedupeInEffect, readSpeed, untilObeyed, type ControlReport } from '../speed-control.js';
import type { LabApi } from '../lab-api.js';

export const DEDUPE_EXPLANATION = [
  'The speed layer remembers the event ids it applied (claims in Redis, shared by every partition) and, with dedupe on, skips a copy.',
  "LAMBDA_SPEED_DEDUPE is each instance's setting at start; an admin can switch it for every instance at runtime, without a restart:",
  'the switch is a key in Redis that each instance reads with its partition state at every Kafka fetch (no extra round trip) and',
  'on its status report (every 2 s). Each partition then reports the dedupe its consumer applies and where it comes from. Claims are',
  'made either way, so dedupe switched on again also skips copies of ids first seen while it was off. Try `lambda-arch lab duplicates`.',
].join('\n');

export type DedupeSetting = 'on' | 'off' | 'default';

export interface DedupeResult {
  setting: DedupeSetting;
  /** the control version the consumers now obey */
  version: number;
  before: { dedupe: boolean; from: ControlReport['dedupeFrom'] } | null;
  after: { dedupe: boolean; from: ControlReport['dedupeFrom'] } | null;
  /** each partition's consumer, as it reports after the switch */
  partitions: { partition: number; dedupe: boolean; dedupeFrom: ControlReport['dedupeFrom'] }[];
  /** from the switch to the last partition reporting it, ms */
  tookMs: number;
}

export async function switchDedupe(api: LabApi, opts: { setting: DedupeSetting; timeoutMs?: number; log?: (line: string) => void }): Promise<DedupeResult> {
  const log = opts.log ?? (() => undefined);
  const before = dedupeInEffect(await readSpeed(api));
  const to = opts.setting === 'default' ? null : opts.setting === 'on';
  log(
    `dedupe now: ${before === null ? 'not the same in every partition' : `${before.dedupe ? 'on' : 'off'} (${before.from})`}; switching it ${opts.setting === 'default' ? 'back to LAMBDA_SPEED_DEDUPE' : opts.setting}`,
  );
  const started = Date.now();
  const version = await changeControl(api, { dedupe: to });
  const view = await untilObeyed(api, version, (c) => (to === null ? c.dedupeFrom === 'LAMBDA_SPEED_DEDUPE' : c.dedupeFrom === 'admin' && c.dedupe === to), {
    what: `every partition's consumer to apply dedupe ${opts.setting}`,
    timeoutMs: opts.timeoutMs,
  });
  return {
    setting: opts.setting,
    version,
    before,
    after: dedupeInEffect(view),
    partitions: view.partitions.map((p) => ({ partition: p.partition, dedupe: p.control!.dedupe, dedupeFrom: p.control!.dedupeFrom })),
    tookMs: Date.now() - started,
  };
}
