/** Loads the view definitions once at start: the user's views file, or the default clickstream set. */
import { readFileSync } from 'node:fs';
import { LambdaError } from '../shared/errors.js';
import { loadViews } from '../shared/views/load.js';
import { defaultViewSet } from '../shared/views/default-views.js';
import type { ViewSet } from '../shared/views/definition.js';

export function loadViewSet(viewsFile: string | null): ViewSet {
  if (viewsFile === null) return defaultViewSet();
  let text: string;
  try {
    text = readFileSync(viewsFile, 'utf8');
  } catch (err) {
    throw new LambdaError('CONFIG_INVALID', `LAMBDA_VIEWS_FILE=${viewsFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
  return loadViews(text, viewsFile);
}
