import { describe, expect, it } from 'vitest';
import { assertValidCron, CronSchedule } from '../../batch-layer/schedule/cron-schedule.js';
import { silentLogger } from '../../platform/logger.js';

describe('batch cron expression', () => {
  it('accepts 5- and 6-field expressions', () => {
    expect(() => assertValidCron('*/5 * * * *')).not.toThrow();
    expect(() => assertValidCron('0 0 * * * *')).not.toThrow();
    expect(() => assertValidCron('15 3 * * 1-5')).not.toThrow();
  });

  it.each([
    ['*/5 * * *', /expected 5 or 6 fields/],
    ['61 * * * *', /minute/],
    ['every five minutes', /LAMBDA_BATCH_CRON="every five minutes" is not a valid cron expression/],
  ])('rejects %j with CONFIG_INVALID saying what is wrong', (expr, message) => {
    expect(() => assertValidCron(expr)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(message) }));
  });

  it('validates when the schedule is built, before anything runs', () => {
    expect(() => new CronSchedule('* * *', async () => undefined, silentLogger())).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
