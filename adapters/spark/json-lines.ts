/** The driver's results: JSON lines files it wrote (BatchDriver "dump"), read one row at a time. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { LambdaError } from '../../shared/errors.js';

export async function* jsonRows(path: string): AsyncIterable<Record<string, unknown>> {
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    yield JSON.parse(line) as Record<string, unknown>;
  }
}

/** The rows of a small result, all at once. */
export async function allRows(path: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const r of jsonRows(path)) rows.push(r);
  return rows;
}

/**
 * An integer Spark wrote as text (the queries cast BIGINT results to STRING: a JSON number past
 * 2^53 would lose digits in JSON.parse) as an exact JS number, or a loud failure. Spark leaves a
 * NULL column out of the row: undefined is NULL.
 */
export function exactInteger(v: unknown, what: string): number | null {
  if (v === null || v === undefined) return null;
  const b = BigInt(v as string);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LambdaError('INTERNAL', `${what} overflowed 2^53 (exact integers); use fewer decimals for this measure`);
  }
  return Number(b);
}
