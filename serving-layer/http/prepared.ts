/**
 * An answer already serialised: the bytes of the JSON of a T, and an entity tag derived from
 * what the bytes were computed from (a cache key), not from hashing the bytes on every request.
 * A route handler returns one instead of a T when the answer came from the serving cache
 * (serving-layer/cache); route.ts sends the bytes as they are.
 */
export class PreparedJson<T = unknown> {
  /** phantom: the type the bytes are the JSON of (never set at run time) */
  declare readonly __answer?: T;

  constructor(
    readonly body: Buffer,
    /** a strong entity tag, quoted, e.g. "\"run-1.3f2a\"" */
    readonly etag: string,
  ) {}
}
