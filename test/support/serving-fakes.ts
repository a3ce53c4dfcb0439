/**
 * In-memory fakes of the serving layer's own ports (BatchViewStore, SpeedReadModel), for unit
 * tests of the query code. They hold BucketRows as given and answer range and filter reads; they
 * never roll up (`keep` is optional for a store), so the serving layer's own roll-up is exercised.
 * Integration tests use the real SQLite and Redis stores instead.
 */
import type { BatchRunInfo, BatchViewStore, BucketRow, LateClassEvent, SeriesQuery, SketchRow, SpeedStatus } from '../../shared/ports.js';
import type { Granularity } from '../../shared/time.js';
import { sketchOfMembers } from '../../shared/hll/sketch.js';
import type { ContentCheck, QueryContext, SpeedReadModel, SpeedRowWithCounters } from '../../serving-layer/query/context.js';
import type { ViewSet } from '../../shared/views/definition.js';
import { floorTo } from '../../shared/time.js';
import { LambdaError } from '../../shared/errors.js';

/** A stored group's sketch of a distinct measure, as a fake store holds it. */
export interface FakeSketch {
  view: string;
  granularity: Granularity;
  measure: string;
  bucketStart: number;
  dims: (string | null)[];
  sketch: Uint8Array;
}

/** The sketch of a group with these members (Redis bytes, as both real stores hold them). */
export function fakeSketch(
  view: string,
  granularity: Granularity,
  measure: string,
  bucketStart: number,
  dims: (string | null)[],
  members: readonly string[],
): FakeSketch {
  return { view, granularity, measure, bucketStart, dims, sketch: sketchOfMembers(members) };
}

function sketchesOf(sketches: readonly FakeSketch[], q: SeriesQuery, measure: string, dimensions: readonly string[]): SketchRow[] {
  return sketches
    .filter((s) => s.measure === measure && matches(s, q, dimensions))
    .map((s) => ({ bucketStart: s.bucketStart, dims: [...s.dims], sketch: s.sketch }));
}

function matches(r: Pick<BucketRow, 'view' | 'granularity' | 'bucketStart' | 'dims'>, q: SeriesQuery, dimensions: readonly string[]): boolean {
  if (r.view !== q.view || r.granularity !== q.granularity) return false;
  if (r.bucketStart < floorTo(q.from, q.granularity) || r.bucketStart >= q.to) return false;
  for (const [dim, want] of Object.entries(q.filter ?? {})) {
    if ((r.dims[dimensions.indexOf(dim)] ?? null) !== want) return false;
  }
  return true;
}

export function runInfo(runId: string, watermark: number, finishedAt = watermark): BatchRunInfo {
  return {
    runId,
    watermark,
    arrivalComplete: watermark,
    startedAt: finishedAt,
    finishedAt,
    counts: { files: 0, eventsRead: 0, invalid: {}, duplicates: 0, groups: 0 },
    viewsHash: 'fake',
  };
}

export class FakeBatchStore implements BatchViewStore {
  /** newest first, as the port returns them */
  readonly kept: { info: BatchRunInfo; rows: BucketRow[]; sketches: FakeSketch[] | null }[] = [];

  constructor(private readonly views: ViewSet) {}

  /** `sketches` absent: the run keeps none (as a run written with LAMBDA_BATCH_SKETCHES=false) */
  publish(info: BatchRunInfo, rows: BucketRow[], sketches?: FakeSketch[]): void {
    this.kept.unshift({ info, rows, sketches: sketches ?? null });
  }

  latestRun(): BatchRunInfo | null {
    return this.kept[0]?.info ?? null;
  }

  runs(): BatchRunInfo[] {
    return this.kept.map((k) => k.info);
  }

  series(q: SeriesQuery, runId?: string): BucketRow[] {
    const run = runId === undefined ? this.kept[0] : this.kept.find((k) => k.info.runId === runId);
    if (!run) throw new LambdaError('NOT_FOUND', `batch run "${runId ?? '(published)'}" is not kept`);
    const dims = this.views.byName[q.view]?.dimensions ?? [];
    return run.rows.filter((r) => matches(r, q, dims)).map((r) => ({ ...r, values: { ...r.values } }));
  }

  sketches(q: SeriesQuery, measure: string, runId?: string): SketchRow[] | null {
    const run = runId === undefined ? this.kept[0] : this.kept.find((k) => k.info.runId === runId);
    if (!run) throw new LambdaError('NOT_FOUND', `batch run "${runId ?? '(published)'}" is not kept`);
    return run.sketches === null ? null : sketchesOf(run.sketches, q, measure, this.views.byName[q.view]?.dimensions ?? []);
  }
}

export class FakeSpeedStore implements SpeedReadModel {
  rows: SpeedRowWithCounters[] = [];
  /** late-class events the speed layer holds (first copies that arrived later than the allowed lateness) */
  lateClass: LateClassEvent[] = [];
  /** per partition, the next offset applied (status) */
  offsets: { partition: number; offset: number }[] = [];
  coveredSince: number | null = 0;
  /** the HLLs of distinct measures, per stored group */
  sketches: FakeSketch[] = [];
  /** distinctSketches calls (what a test may count) */
  sketchReads = 0;
  /** contentCheck calls */
  contentChecks = 0;

  constructor(
    private readonly views: ViewSet,
    private readonly retention = Number.MAX_SAFE_INTEGER / 4,
  ) {}

  series(q: SeriesQuery): Promise<BucketRow[]> {
    return this.seriesWithCounters(q);
  }

  seriesWithCounters(q: SeriesQuery): Promise<SpeedRowWithCounters[]> {
    const dims = this.views.byName[q.view]?.dimensions ?? [];
    return Promise.resolve(this.rows.filter((r) => matches(r, q, dims)).map((r) => ({ ...r, values: { ...r.values } })));
  }

  lateClassAfter(q: SeriesQuery, through: Readonly<Record<string, number>>): Promise<LateClassEvent[]> {
    return Promise.resolve(
      this.lateClass.filter(
        (e) =>
          e.bucketStart >= q.from && e.bucketStart < q.to && through[String(e.partition)] !== undefined && e.offset > (through[String(e.partition)] as number),
      ),
    );
  }

  status(): Promise<SpeedStatus> {
    return Promise.resolve({ coveredSince: this.coveredSince, partitions: this.offsets });
  }

  distinctSketches(q: SeriesQuery, measure: string): Promise<SketchRow[]> {
    this.sketchReads++;
    return Promise.resolve(sketchesOf(this.sketches, q, measure, this.views.byName[q.view]?.dimensions ?? []));
  }

  /** The fake's whole content as the token: any change of rows or sketches changes it. */
  contentCheck(): Promise<ContentCheck> {
    this.contentChecks++;
    return Promise.resolve({ token: JSON.stringify([this.rows, this.sketches]), validUntil: Infinity });
  }

  retentionMs(): number {
    return this.retention;
  }
}

export function fakeContext(views: ViewSet, now: number, batch: BatchViewStore = new FakeBatchStore(views)): QueryContext & { speed: FakeSpeedStore } {
  return { views, batch, speed: new FakeSpeedStore(views), now: () => now };
}
