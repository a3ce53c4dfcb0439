/**
 * The pickers: view, dimension, value, granularity, measure, range and live refresh. They are
 * plain labelled <select>s (keyboard and screen reader friendly as they are); each change
 * produces a new Selection.
 */
import type { ViewDef } from './api.js';
import { byId, el, fill } from './dom.js';
import { fmtDim } from './format.js';
import { BUCKET_CHOICES, REFRESH_CHOICES, type Selection } from './selection.js';

const ALL = 'all';
const MISSING = 'missing';
const valueKey = (v: string | null | undefined) => (v === undefined ? ALL : v === null ? MISSING : `v:${v}`);

function options(select: HTMLSelectElement, items: readonly [value: string, label: string][], selected: string): void {
  fill(select, ...items.map(([value, label]) => el('option', { value, ...(value === selected ? { selected: '' } : {}) }, label)));
  select.value = selected;
}

export class Controls {
  private readonly view = byId<HTMLSelectElement>('pick-view');
  private readonly dimension = byId<HTMLSelectElement>('pick-dim');
  private readonly value = byId<HTMLSelectElement>('pick-value');
  private readonly granularity = byId<HTMLSelectElement>('pick-granularity');
  private readonly measure = byId<HTMLSelectElement>('pick-measure');
  private readonly buckets = byId<HTMLSelectElement>('pick-buckets');
  private readonly refresh = byId<HTMLSelectElement>('pick-refresh');
  private values: (string | null)[] = [];
  /** the values listed belong to this view and dimension */
  private valuesFor: { view: string; dimension: string | null };

  constructor(
    private readonly views: readonly ViewDef[],
    private sel: Selection,
    private readonly onChange: (sel: Selection) => void,
  ) {
    this.valuesFor = { view: sel.view, dimension: sel.dimension };
    this.view.addEventListener('change', () => {
      const def = this.def(this.view.value);
      const g = def.granularities.includes(this.sel.granularity) ? this.sel.granularity : def.granularities[0]!;
      this.emit({
        ...this.sel,
        view: def.name,
        dimension: def.dimensions[0] ?? null,
        value: undefined,
        granularity: g,
        measure: Object.keys(def.measures)[0]!,
      });
    });
    this.dimension.addEventListener('change', () => this.emit({ ...this.sel, dimension: this.dimension.value, value: undefined }));
    this.value.addEventListener('change', () => {
      const v = this.value.value;
      this.emit({ ...this.sel, value: v === ALL ? undefined : v === MISSING ? null : v.slice(2) });
    });
    this.granularity.addEventListener('change', () => this.emit({ ...this.sel, granularity: this.granularity.value as Selection['granularity'] }));
    this.measure.addEventListener('change', () => this.emit({ ...this.sel, measure: this.measure.value }));
    this.buckets.addEventListener('change', () => this.emit({ ...this.sel, buckets: Number(this.buckets.value) }));
    this.refresh.addEventListener('change', () => this.emit({ ...this.sel, refreshSec: Number(this.refresh.value) }));
    this.render();
  }

  private def(name: string): ViewDef {
    return this.views.find((v) => v.name === name) ?? this.views[0]!;
  }

  private emit(sel: Selection): void {
    this.sel = sel;
    if (sel.view !== this.valuesFor.view || sel.dimension !== this.valuesFor.dimension) this.values = [];
    this.valuesFor = { view: sel.view, dimension: sel.dimension };
    this.render();
    this.onChange(sel);
  }

  /** The values the value picker offers (top values of the dimension over the range). */
  setValues(values: readonly (string | null)[]): void {
    const same = values.length === this.values.length && values.every((v, i) => v === this.values[i]);
    // Never rebuild the list under a user who is choosing from it.
    if (same || document.activeElement === this.value) return;
    this.values = [...values];
    this.render();
  }

  private render(): void {
    const def = this.def(this.sel.view);
    options(
      this.view,
      this.views.map((v) => [v.name, `${v.name}: ${v.description}`]),
      def.name,
    );
    options(
      this.dimension,
      def.dimensions.map((d) => [d, d]),
      this.sel.dimension ?? '',
    );
    const values = [...this.values];
    // The selected value stays pickable even when it is no longer among the top values.
    if (this.sel.value !== undefined && !values.includes(this.sel.value)) values.unshift(this.sel.value);
    options(this.value, [[ALL, '(every value)'], ...values.map((v): [string, string] => [valueKey(v), fmtDim(v)])], valueKey(this.sel.value));
    for (const id of ['pick-dim', 'pick-value'])
      byId(id)
        .closest('.field')
        ?.toggleAttribute('hidden', def.dimensions.length === 0);
    options(
      this.granularity,
      def.granularities.map((g) => [g, g]),
      this.sel.granularity,
    );
    options(
      this.measure,
      Object.entries(def.measures).map(([m, d]) => [m, `${m} (${d.type}${'field' in d && d.field ? ` of ${d.field}` : ''})`]),
      this.sel.measure,
    );
    options(
      this.buckets,
      BUCKET_CHOICES.map((n) => [String(n), `last ${n} buckets`]),
      String(this.sel.buckets),
    );
    options(
      this.refresh,
      REFRESH_CHOICES.map((n) => [String(n), n === 0 ? 'off' : `every ${n} s`]),
      String(this.sel.refreshSec),
    );
  }
}
