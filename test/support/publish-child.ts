/**
 * Publishes one run from another process (argv: batch dir, run id, watermark, number of events),
 * for tests of what a serving process sees of a publish it did not make itself.
 */
import { DEFAULT_VIEWS_JSON, defaultViewSet } from '../../shared/views/default-views.js';
import { RunPublisher } from './batch-runs.js';

const [dir, runId, watermark, count] = process.argv.slice(2);
if (dir === undefined || runId === undefined || watermark === undefined || count === undefined)
  throw new Error('usage: publish-child <dir> <runId> <W> <count>');
const publisher = new RunPublisher(dir, defaultViewSet(), DEFAULT_VIEWS_JSON);
const at = Number(watermark) - 60_000;
const events = Array.from({ length: Number(count) }, (_, i) => ({ id: `${runId}-${i}`, ts: at + i, type: 'pageview', url: '/a', user: `u${i}` }));
publisher.publish(runId, Number(watermark), events, 2);
publisher.close();
