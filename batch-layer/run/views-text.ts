/**
 * A ViewSet as a views-file document: the normalised definitions (defaults filled in) as JSON.
 * Worker threads re-load it (a ViewSet does not cross threads) and each run file stores it, so
 * the batch layer needs only the ViewSet, not the text it once came from. Loading this text gives
 * the same definitions and therefore the same ViewSet.hash; the workers check that.
 */
import type { ViewSet } from '../../shared/views/definition.js';

export function viewsDocumentText(views: ViewSet): string {
  return `${JSON.stringify({ views: views.views }, null, 2)}\n`;
}
