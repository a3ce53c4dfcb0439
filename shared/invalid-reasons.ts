/**
 * Why a record is invalid (docs/design-decisions.md §2): the one list, in the precedence
 * validateAndProject (shared/events.ts) applies them. Its own module, with nothing else in it, so
 * the lab (in the dashboard's browser bundle) names the same reasons without bundling the validator.
 */
export const INVALID_REASONS = Object.freeze(['not_json', 'not_object', 'missing_id', 'bad_id', 'missing_ts', 'bad_ts', 'bad_field'] as const);

export type InvalidReason = (typeof INVALID_REASONS)[number];
