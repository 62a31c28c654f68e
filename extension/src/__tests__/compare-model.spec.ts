import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  CURVE_POINTS,
  CompareModel,
  defaultScatter,
  paramRows,
  runLabels,
  scatterAxes,
  scatterPoints,
  sourceDiff
} from '../compare/compare-model';
import { foldUnchanged } from '../versions/notebook-diff';
import { runSummary } from './run-summary';

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

function run(
  id: string,
  extra: Partial<MlopsAPI.IComparedRun> = {}
): MlopsAPI.IComparedRun {
  return { ...runSummary(id), cell_source: null, jupyter_path: null, ...extra };
}

function comparison(): MlopsAPI.ICompareRunsResponse {
  return {
    runs: [
      run('aaaa1111', {
        name: 'base',
        metrics: { loss: 0.5, acc: 0.8 },
        notebook_version_id: 3,
        cell_source: 'C = 0.1\nfit(C)'
      }),
      run('bbbb2222', {
        name: 'base',
        metrics: { loss: 0.4 },
        notebook_version_id: 4,
        cell_source: 'C = 1.0\nfit(C)'
      }),
      run('cccc3333', { metrics: { loss: 0.3, acc: 0.9 } })
    ],
    params: [
      {
        key: 'C',
        values: { aaaa1111: '0.1', bbbb2222: '1.0', cccc3333: '10' },
        differs: true
      },
      {
        key: 'penalty',
        values: { aaaa1111: 'l2', bbbb2222: 'l1', cccc3333: 'l2' },
        differs: true
      },
      {
        key: 'seed',
        values: { aaaa1111: '1', bbbb2222: '1', cccc3333: '1' },
        differs: false
      }
    ],
    metrics: [
      {
        key: 'loss',
        values: { aaaa1111: 0.5, bbbb2222: 0.4, cccc3333: 0.3 },
        differs: true
      },
      { key: 'acc', values: { aaaa1111: 0.8, cccc3333: 0.9 }, differs: true }
    ],
    metric_keys: ['acc', 'loss'],
    common_metric_keys: ['loss']
  };
}

describe('compare helpers', () => {
  it('labels runs by name, with an id prefix where two share one', () => {
    expect(runLabels(comparison().runs)).toEqual({
      aaaa1111: 'base (aaaa11)',
      bbbb2222: 'base (bbbb22)',
      cccc3333: 'cccc3333'
    });
  });

  it('shows all params or only the differing ones', () => {
    const data = comparison();
    expect(paramRows(data, false).map(p => p.key)).toEqual([
      'C',
      'penalty',
      'seed'
    ]);
    expect(paramRows(data, true).map(p => p.key)).toEqual(['C', 'penalty']);
  });

  it('offers numeric params and metrics as scatter axes, not text params', () => {
    const data = comparison();
    expect(scatterAxes(data)).toEqual([
      'params.C',
      'params.seed',
      'metrics.loss',
      'metrics.acc'
    ]);
    expect(defaultScatter(data)).toEqual({ x: 'params.C', y: 'metrics.loss' });
  });

  it('places runs by ascending x and leaves out runs without a value', () => {
    const data = comparison();
    expect(scatterPoints(data, 'metrics.acc', 'params.C')).toEqual([
      { runId: 'aaaa1111', x: 0.8, y: 0.1 },
      { runId: 'cccc3333', x: 0.9, y: 10 }
    ]);
  });

  it('diffs two sources line by line', () => {
    expect(sourceDiff('C = 0.1\nfit(C)\n', 'C = 1.0\nfit(C)\n')).toEqual([
      { op: '-', text: 'C = 0.1' },
      { op: '+', text: 'C = 1.0' },
      { op: ' ', text: 'fit(C)' }
    ]);
  });

  it('folds consecutive unchanged cells into one group', () => {
    const cell = (status: MlopsAPI.CellStatus) =>
      ({ status }) as MlopsAPI.ICellDiff;
    const groups = foldUnchanged([
      cell('unchanged'),
      cell('unchanged'),
      cell('changed'),
      cell('unchanged'),
      cell('added'),
      cell('added')
    ]);
    expect(groups.map(g => g.map(c => c.status))).toEqual([
      ['unchanged', 'unchanged'],
      ['changed'],
      ['unchanged'],
      ['added'],
      ['added']
    ]);
  });
});

describe('CompareModel', () => {
  beforeEach(() => {
    compareRuns.mockReset();
    diffNotebooks.mockReset();
    // The server: the table, plus every run's series of the metrics asked with `curves`
    // (only runs that logged the metric have one), listed in no particular order.
    compareRuns.mockImplementation(async (_ids, curves) => {
      const data = comparison();
      data.curves = [];
      for (const key of curves ?? []) {
        for (const r of data.runs.filter(r => key in r.metrics).reverse()) {
          data.curves.push({
            key,
            run_id: r.id,
            steps: [0, 5],
            values: [1, r.metrics[key]]
          });
        }
      }
      return data;
    });
    diffNotebooks.mockResolvedValue({
      a: '3',
      b: '4',
      cells: [],
      summary: { added: 0, removed: 0, changed: 1, moved: 0, unchanged: 0 }
    });
  });

  it('loads the comparison, the curves of metrics all runs logged, and the versions diff', async () => {
    const model = new CompareModel(['aaaa', 'bbbb', 'cccc']);
    await model.load();
    expect(compareRuns).toHaveBeenNthCalledWith(1, ['aaaa', 'bbbb', 'cccc']);
    // the server's full ids replace the prefixes
    expect(model.state.ids).toEqual(['aaaa1111', 'bbbb2222', 'cccc3333']);
    expect(model.state.chartKeys).toEqual(['loss']);
    // every run's curve in one more request, not one request per run
    expect(compareRuns).toHaveBeenCalledTimes(2);
    expect(compareRuns).toHaveBeenLastCalledWith(
      ['aaaa1111', 'bbbb2222', 'cccc3333'],
      ['loss'],
      CURVE_POINTS
    );
    // the columns become the chart's points, step by step
    expect(
      model.state.curves.loss.map(s => s.points.map(p => [p.step, p.value]))
    ).toEqual([
      [
        [0, 1],
        [5, 0.5]
      ],
      [
        [0, 1],
        [5, 0.4]
      ],
      [
        [0, 1],
        [5, 0.3]
      ]
    ]);
    // one series per run, each keeping its place (colour) in the comparison
    expect(model.state.curves.loss.map(s => [s.label, s.colour])).toEqual([
      ['base (aaaa11)', 0],
      ['base (bbbb22)', 1],
      ['cccc3333', 2]
    ]);
    expect(diffNotebooks).toHaveBeenCalledWith(3, 4);
    expect(model.state.notebookDiff?.summary.changed).toBe(1);
    expect(model.state.loading).toBe(false);
  });

  it('loads a metric only two runs logged with those two, and once', async () => {
    const model = new CompareModel(['aaaa', 'bbbb', 'cccc']);
    await model.load();
    compareRuns.mockClear();
    await model.toggleChart('acc');
    expect(compareRuns).toHaveBeenCalledWith(
      ['aaaa1111', 'bbbb2222', 'cccc3333'],
      ['acc'],
      CURVE_POINTS
    );
    // in the comparison's order, each run keeping its colour
    expect(model.state.curves.acc.map(s => [s.label, s.colour])).toEqual([
      ['base (aaaa11)', 0],
      ['cccc3333', 2]
    ]);
    await model.toggleChart('acc'); // hidden
    await model.toggleChart('acc'); // shown again: already loaded
    expect(compareRuns).toHaveBeenCalledTimes(1);
    expect(model.state.chartKeys).toEqual(['loss', 'acc']);
  });

  it('toggles the log scale of one metric', async () => {
    const model = new CompareModel(['a', 'b']);
    model.toggleLogScale('loss');
    expect(model.state.logScale).toEqual(['loss']);
    model.toggleLogScale('loss');
    expect(model.state.logScale).toEqual([]);
  });

  it('asks no notebook diff when a run has no version or both share one', async () => {
    const model = new CompareModel(['aaaa', 'cccc']);
    await model.load();
    diffNotebooks.mockClear();
    await model.setDiffPair('aaaa1111', 'cccc3333'); // cccc has no version
    await model.setDiffPair('aaaa1111', 'aaaa1111');
    expect(diffNotebooks).not.toHaveBeenCalled();
    expect(model.state.notebookDiff).toBeNull();
  });

  it('keeps the server message when the comparison cannot load', async () => {
    compareRuns.mockReset();
    compareRuns.mockRejectedValue(new Error("No run id starts with 'zz'"));
    const model = new CompareModel(['zz', 'aaaa']);
    await model.load();
    expect(model.state.error).toBe("No run id starts with 'zz'");
    expect(model.state.data).toBeNull();
  });
});
