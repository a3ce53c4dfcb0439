/**
 * The dashboard: wires the pickers, the two charts, the tables, the status panel and the batch
 * dialog to the API, and refreshes them on its own so a user watches the speed layer move and
 * the batch layer take over after a run.
 */
import { api, query, type SeriesAnswer, type ViewDef, type DriftAnswer } from './api.js';
import { Controls } from './controls.js';
import { byId } from './dom.js';
import { DriftChart } from './drift-chart.js';
import { renderDriftTable } from './drift-table.js';
import { fmtBucket, fmtInstant } from './format.js';
import { Refresher } from './refresher.js';
import { filterParam, rangeOf, readSelection, selectionSearch, type Selection } from './selection.js';
import { SeriesChart } from './series-chart.js';
import { bucketPoints, driftPoints } from './series-data.js';
import { renderSeriesTable } from './series-table.js';
import { renderStatus } from './status-panel.js';
import { setupBatchDialog } from './batch-dialog.js';
import { setupLabPanel } from './lab-panel.js';
import { setupKappaPanel } from './kappa-panel.js';
import { describeUnique } from './unique-figure.js';
import { renderUniqueFigure } from './unique-figure-view.js';

/** How many values of a dimension the value picker offers (the top ones by the first measure). */
const VALUE_CHOICES = 25;

async function boot(): Promise<void> {
  const { views } = await api.views();
  let sel = readSelection(views, location.search);
  const viewDef = (): ViewDef => views.find((v) => v.name === sel.view)!;
  const seriesChart = new SeriesChart(byId('series-chart'));
  const driftChart = new DriftChart(byId('drift-chart'));
  const showAgreeing = byId<HTMLInputElement>('show-agreeing');
  const errorBox = byId('load-error');
  let lastDrift: { answer: DriftAnswer; sel: Selection } | null = null;
  let refreshes = 0;

  const drawDriftTable = () => {
    if (!lastDrift) return;
    const def = views.find((v) => v.name === lastDrift!.sel.view)!;
    const s = lastDrift.sel;
    renderDriftTable(byId('drift-table-box'), {
      answer: lastDrift.answer,
      measure: s.measure,
      def: def.measures[s.measure]!,
      dimensions: def.dimensions,
      granularity: s.granularity,
      showAgreeing: showAgreeing.checked,
    });
  };

  const refresh = async () => {
    const at = sel;
    const def = viewDef();
    const measureDef = def.measures[at.measure]!;
    const { from, to } = rangeOf(at, Date.now());
    const filter = filterParam(at);
    try {
      void loadValues(); // values come and go with the data; the picker follows
      // Only the measure shown is asked for, so the answers' warnings concern what the user sees.
      // A distinct measure also gets its count over the whole range: a union, not the bars' sum.
      const distinct = measureDef.fold.sketched;
      const [series, drift, status, totals] = await Promise.all([
        api.series(at.view, query({ granularity: at.granularity, from, to, groupBy: '', filter, measures: at.measure })),
        api.drift(at.view, query({ granularity: at.granularity, from, to, filter, measures: at.measure })),
        api.status(),
        distinct ? api.totals(at.view, query({ granularity: at.granularity, from, to, groupBy: '', filter, measures: at.measure })) : Promise.resolve(null),
      ]);
      if (at !== sel) return; // the user picked something else meanwhile: a newer refresh follows
      const rangeText = `${fmtBucket(from, at.granularity)} to ${fmtBucket(to - 1, at.granularity)} UTC`;
      renderUniqueFigure(byId('unique-figure'), totals === null ? null : describeUnique(totals, at.measure), at.measure, measureDef, rangeText);
      const points = bucketPoints(series, at.measure, measureDef);
      seriesChart.render({ answer: series, points, measure: at.measure, def: measureDef, granularity: at.granularity });
      renderSeriesTable(byId('series-table-box'), series, points, at.measure, measureDef, at.granularity);
      driftChart.render({
        answer: drift,
        points: driftPoints(drift, at.measure, measureDef),
        range: { from, to },
        measure: at.measure,
        def: measureDef,
        granularity: at.granularity,
      });
      lastDrift = { answer: drift, sel: at };
      drawDriftTable();
      renderStatus(byId('status'), status, series);
      errorBox.hidden = true;
      refreshes++;
      document.body.dataset.refreshes = String(refreshes);
      byId('last-updated').textContent =
        `Updated ${fmtInstant(Date.now()).slice(11)}${at.refreshSec > 0 ? `, refreshing every ${at.refreshSec} s` : ', live refresh off'}.`;
    } catch (err) {
      errorBox.hidden = false;
      errorBox.textContent = `Could not load the data: ${err instanceof Error ? err.message : String(err)}. Retrying${at.refreshSec > 0 ? ` in ${at.refreshSec} s` : ' on the next change'}.`;
    }
  };
  const refresher = new Refresher(refresh, () => sel.refreshSec);

  const loadValues = async () => {
    const at = sel;
    const dim = at.dimension;
    if (dim === null) return controls.setValues([]);
    const { from, to } = rangeOf(at, Date.now());
    try {
      // The API keeps the top groups by the view's first measure; they are listed in a stable order.
      const answer: SeriesAnswer = await api.series(at.view, query({ granularity: at.granularity, from, to, groupBy: dim, limit: VALUE_CHOICES }));
      const found = new Set(answer.buckets.flatMap((b) => b.groups.map((g) => g.dims[dim] ?? null)));
      const values = [...found].sort((a, b) => (a === null ? -1 : b === null ? 1 : a.localeCompare(b)));
      if (at === sel) controls.setValues(values);
    } catch {
      // The picker keeps its values; the refresh reports errors.
    }
  };

  const controls = new Controls(views, sel, (next) => {
    sel = next;
    history.replaceState(null, '', selectionSearch(sel));
    refresher.now(); // and from then on at the (maybe new) interval
  });
  showAgreeing.addEventListener('change', drawDriftTable);
  setupBatchDialog(() => refresher.now());
  setupLabPanel(() => refresher.now());
  setupKappaPanel(() => refresher.now());
  history.replaceState(null, '', selectionSearch(sel));
  refresher.now();
}

boot().catch((err: unknown) => {
  const box = document.getElementById('load-error');
  if (box) {
    box.hidden = false;
    box.textContent = `The dashboard could not start: ${err instanceof Error ? err.message : String(err)}`;
  }
});
