/**
 * The batch schedule: node-cron (v4) fires the job on LAMBDA_BATCH_CRON, evaluated in UTC like
 * every bucket of the service, so "0 * * * *" means the top of each UTC hour wherever it runs.
 * noOverlap stops a tick while this schedule's previous run goes on; runs started elsewhere
 * (CLI, HTTP, another process) are kept apart by the batch lease, not by this.
 */
import { createTask, validateDetailed, type ScheduledTask } from 'node-cron';
import { LambdaError } from '../../shared/errors.js';
import type { Logger } from '../../platform/logger.js';

export const CRON_TIMEZONE = 'Etc/UTC';

/** Throws CONFIG_INVALID naming the setting and what is wrong with the expression. */
export function assertValidCron(expression: string, setting = 'LAMBDA_BATCH_CRON'): void {
  const v = validateDetailed(expression);
  if (v.valid) return;
  const problems = v.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field}: ${e.message}`)).join('; ');
  throw new LambdaError(
    'CONFIG_INVALID',
    `${setting}=${JSON.stringify(expression)} is not a valid cron expression (${problems}); ` +
      'use 5 fields "minute hour day-of-month month day-of-week" (or 6 with seconds first), e.g. "*/5 * * * *"',
    { details: { setting, expression, errors: v.errors } },
  );
}

export class CronSchedule {
  private task: ScheduledTask | null = null;

  constructor(
    private readonly expression: string,
    /** must not throw: the caller logs its own failures */
    private readonly job: () => Promise<void>,
    private readonly log: Logger,
  ) {
    assertValidCron(expression);
  }

  start(): void {
    if (this.task !== null) return;
    this.task = createTask(this.expression, () => this.job(), {
      name: 'batch',
      noOverlap: true,
      timezone: CRON_TIMEZONE,
      logger: {
        info: (m) => this.log.debug({ cron: this.expression }, m),
        warn: (m) => this.log.warn({ cron: this.expression }, m),
        error: (m) => this.log.error({ cron: this.expression, err: m }, 'batch schedule error'),
        debug: (m) => this.log.debug({ cron: this.expression }, String(m)),
      },
    });
    Promise.resolve(this.task.start()).catch((err: unknown) => this.log.error({ err }, 'batch schedule failed to start'));
    this.log.info({ cron: this.expression, timezone: CRON_TIMEZONE, nextRunAt: this.nextRunAt() }, 'batch schedule started');
  }

  /** Stops firing; a run already started is not waited for here (the batch layer does that). */
  async stop(): Promise<void> {
    const t = this.task;
    this.task = null;
    if (t !== null) await t.destroy();
  }

  nextRunAt(): number | null {
    return this.task?.getNextRun()?.getTime() ?? null;
  }
}
