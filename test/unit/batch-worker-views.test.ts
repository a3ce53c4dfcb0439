import { describe, expect, it } from 'vitest';
import { viewSetFromValidatedText } from '../../batch-layer/run/worker-views.js';
import { viewsDocumentText } from '../../batch-layer/run/views-text.js';
import { defaultViewSet } from '../../shared/views/default-views.js';

describe("a map worker's view set (rebuilt without re-validating)", () => {
  it("is the run's view set: same definitions, same hash, frozen", () => {
    const views = defaultViewSet();
    const rebuilt = viewSetFromValidatedText(viewsDocumentText(views), 'src', views.hash);
    expect(rebuilt.hash).toBe(views.hash);
    expect(rebuilt.views).toEqual(views.views);
    expect(Object.keys(rebuilt.byName)).toEqual(views.views.map((v) => v.name));
    expect(Object.isFrozen(rebuilt.views[0]?.measures)).toBe(true);
  });

  it("refuses definitions that differ from the run's (hash check)", () => {
    const views = defaultViewSet();
    const tampered = viewsDocumentText(views).replace('"pageview"', '"click"');
    expect(() => viewSetFromValidatedText(tampered, 'src', views.hash)).toThrow(/differ from the run's views/);
  });
});
