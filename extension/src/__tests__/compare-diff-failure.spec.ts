/**
 * The Compare view when the notebook diff cannot be made (nbdime missing on the server, a
 * pruned version): the comparison still loads, and the diff section shows the server's
 * message, which names the fix, instead of "Loading the diff…" or an error for the whole view.
 */
import React from 'react';
// @ts-expect-error react-dom ships no type declarations here; its server renderer is untyped
import { renderToStaticMarkup as render } from 'react-dom/server';

import * as api from '../api';
import type { MlopsAPI } from '../api';
import { CompareModel } from '../compare/compare-model';
import { RunDiff } from '../compare/run-diff';
import { runSummary } from './run-summary';

const renderToStaticMarkup = render as (element: React.ReactElement) => string;

jest.mock('../api', () => ({
  compareRuns: jest.fn(),
  diffNotebooks: jest.fn()
}));

const compareRuns = api.compareRuns as jest.MockedFunction<
  typeof api.compareRuns
>;
const diffNotebooks = api.diffNotebooks as jest.MockedFunction<
  typeof api.diffNotebooks
>;

const MISSING_NBDIME =
  'The notebook diff needs the [lab] extra, which is not installed (missing: nbdime). ' +
  'Fix: pip install "jupyter-mlops[lab]"';

function run(id: string, version: number): MlopsAPI.IComparedRun {
  return {
    ...runSummary(id, { notebook_version_id: version }),
    cell_source: 'C = 0.1',
    jupyter_path: null
  };
}

function shown(error: string | null): string {
  return renderToStaticMarkup(
    React.createElement(RunDiff, {
      runs: [run('aaaa1111', 3), run('bbbb2222', 4)],
      labels: { aaaa1111: 'a', bbbb2222: 'b' },
      pair: ['aaaa1111', 'bbbb2222'],
      notebookDiff: null,
      notebookDiffError: error,
      onPair: () => undefined
    })
  );
}

function comparison(): MlopsAPI.ICompareRunsResponse {
  return {
    runs: [
      { ...run('aaaa1111', 3), metrics: { loss: 0.5 } },
      { ...run('bbbb2222', 4), metrics: { loss: 0.4 } }
    ],
    params: [],
    metrics: [
      {
        key: 'loss',
        values: { aaaa1111: 0.5, bbbb2222: 0.4 },
        differs: true
      }
    ],
    metric_keys: ['loss'],
    common_metric_keys: ['loss'],
    curves: [
      { key: 'loss', run_id: 'aaaa1111', steps: [0, 1], values: [1, 0.5] },
      { key: 'loss', run_id: 'bbbb2222', steps: [0, 1], values: [1, 0.4] }
    ]
  };
}

describe('CompareModel when the notebook diff fails', () => {
  beforeEach(() => {
    compareRuns.mockReset();
    diffNotebooks.mockReset();
    compareRuns.mockImplementation(async () => comparison());
    diffNotebooks.mockRejectedValue(new Error(MISSING_NBDIME));
  });

  it("keeps the comparison and the diff's message", async () => {
    const model = new CompareModel(['aaaa', 'bbbb']);
    await model.load();
    expect(model.state.error).toBeNull();
    expect(model.state.data?.runs).toHaveLength(2);
    expect(model.state.curves.loss).toHaveLength(2);
    expect(model.state.notebookDiff).toBeNull();
    expect(model.state.notebookDiffError).toBe(MISSING_NBDIME);
    expect(model.state.loading).toBe(false);
  });

  it("forgets the message when another pair's diff loads", async () => {
    const model = new CompareModel(['aaaa', 'bbbb']);
    await model.load();
    diffNotebooks.mockResolvedValue({
      a: '3',
      b: '4',
      cells: [],
      summary: { added: 0, removed: 0, changed: 1, moved: 0, unchanged: 0 }
    });
    await model.setDiffPair('aaaa1111', 'bbbb2222');
    expect(model.state.notebookDiffError).toBeNull();
    expect(model.state.notebookDiff?.summary.changed).toBe(1);
  });
});

describe('RunDiff', () => {
  it('shows why the notebook diff is missing, with the fix', () => {
    const html = shown(MISSING_NBDIME);
    expect(html).toContain('role="alert"');
    expect(html).toContain(
      'The notebook diff could not be made: The notebook diff needs the [lab] extra'
    );
    expect(html).toContain('pip install &quot;jupyter-mlops[lab]&quot;');
    expect(html).not.toContain('Loading the diff');
  });

  it('says it is loading while no answer has come', () => {
    expect(shown(null)).toContain('Loading the diff…');
  });
});
