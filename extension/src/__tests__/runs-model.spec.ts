import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  RunsModel,
  elapsed,
  fieldRef,
  formatDuration,
  formatValue,
  orderBy,
  queryFor
} from '../runs/runs-model';

jest.mock('../api', () => ({ listRuns: jest.fn() }));

const listRuns = api.listRuns as jest.MockedFunction<typeof api.listRuns>;

function run(
  id: string,
  extra: Partial<MlopsAPI.IRunSummary> = {}
): MlopsAPI.IRunSummary {
  return {
    id,
    name: null,
    experiment: 'e',
    status: 'finished',
    source: 'cell',
    start_time: 1000,
    end_time: 1010,
    duration: 10,
    notebook_path: null,
    notebook_version_id: null,
    parent_run_id: null,
    params: {},
    metrics: {},
    tags: {},
    ...extra
  };
}

function page(
  runs: MlopsAPI.IRunSummary[],
  total = runs.length,
  keys: Partial<MlopsAPI.IListRunsResponse> = {}
): MlopsAPI.IListRunsResponse {
  return {
    runs,
    total,
    limit: 50,
    offset: 0,
    metric_keys: [],
    param_keys: [],
    ...keys
  };
}

describe('runs model helpers', () => {
  it('quotes field names the filter language cannot read bare', () => {
    expect(fieldRef('metrics', 'acc')).toBe('metrics.acc');
    expect(fieldRef('metrics', 'train/loss')).toBe('metrics.train/loss');
    expect(fieldRef('metrics', 'val loss')).toBe('metrics.`val loss`');
    expect(fieldRef('params', 'model.C')).toBe('params.`model.C`');
    expect(fieldRef('attributes', 'start_time')).toBe('start_time');
  });

  it('shows the time so far for a running run and nothing for a run that never ended', () => {
    expect(elapsed(run('a', { duration: 12 }), 5000)).toBe(12);
    expect(elapsed(run('a', { status: 'running', duration: null }), 1030)).toBe(
      30
    );
    expect(
      elapsed(run('a', { status: 'crashed', duration: null }), 1030)
    ).toBeNull();
  });

  it('builds order_by items', () => {
    expect(orderBy({ entity: 'metrics', key: 'acc', descending: true })).toBe(
      'metrics.acc DESC'
    );
    expect(
      orderBy({ entity: 'attributes', key: 'name', descending: false })
    ).toBe('name ASC');
  });

  it('formats durations and values for the table', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(4.21)).toBe('4.2 s');
    expect(formatDuration(185)).toBe('3 min 5 s');
    expect(formatDuration(7500)).toBe('2 h 5 min');
    expect(formatValue(undefined)).toBe('');
    expect(formatValue(3)).toBe('3');
    expect(formatValue(0.912345)).toBe('0.9123');
    expect(formatValue(0.0000123)).toBe('1.230e-5');
  });
});

describe('RunsModel', () => {
  beforeEach(() => listRuns.mockReset());

  it('asks for the notebook scope, the filter, the sort and the page', async () => {
    listRuns.mockResolvedValue(page([]));
    const model = new RunsModel(20);
    await model.setScope({ kind: 'notebook', path: 'work/train.ipynb' });
    await model.setFilter("  params.C = '0.1' ");
    expect(listRuns).toHaveBeenLastCalledWith({
      notebook: 'work/train.ipynb',
      filter: "params.C = '0.1'",
      order_by: ['start_time DESC'],
      limit: 20,
      offset: 0
    });
  });

  it('asks for an experiment without a notebook', () => {
    const model = new RunsModel(10);
    model.state = {
      ...model.state,
      scope: { kind: 'experiment', name: 'churn' },
      page: 2
    };
    expect(queryFor(model.state)).toEqual({
      experiment: 'churn',
      order_by: ['start_time DESC'],
      limit: 10,
      offset: 20
    });
  });

  it('keeps the rows, the total and at most four metric and param columns', async () => {
    listRuns.mockResolvedValue(
      page([run('a'), run('b')], 120, {
        metric_keys: ['a', 'b', 'c', 'd', 'e'],
        param_keys: ['C']
      })
    );
    const model = new RunsModel(50);
    const changed = await model.refresh();
    expect(changed).toBe(true);
    expect(model.state.rows.map(r => r.id)).toEqual(['a', 'b']);
    expect(model.state.total).toBe(120);
    expect(model.pageCount).toBe(3);
    expect(model.state.metricColumns).toEqual(['a', 'b', 'c', 'd']);
    expect(model.state.paramColumns).toEqual(['C']);
  });

  it('reports no change when the page is the same, and a change when a run ends', async () => {
    const model = new RunsModel();
    listRuns.mockResolvedValue(
      page([run('a', { status: 'running', end_time: null })])
    );
    expect(await model.refresh()).toBe(true);
    expect(await model.refresh()).toBe(false);
    listRuns.mockResolvedValue(page([run('a')]));
    expect(await model.refresh()).toBe(true);
  });

  it('toggles the sort direction on the same column and resets to page one', async () => {
    listRuns.mockResolvedValue(page([], 500));
    const model = new RunsModel(50);
    await model.refresh();
    await model.setPage(3);
    expect(model.state.page).toBe(3);
    await model.toggleSort('metrics', 'acc');
    expect(model.state.sort).toEqual({
      entity: 'metrics',
      key: 'acc',
      descending: true
    });
    expect(model.state.page).toBe(0);
    await model.toggleSort('metrics', 'acc');
    expect(model.state.sort.descending).toBe(false);
    expect(listRuns).toHaveBeenLastCalledWith(
      expect.objectContaining({ order_by: ['metrics.acc ASC'] })
    );
  });

  it('clamps pages to the ones that exist', async () => {
    listRuns.mockResolvedValue(page([run('a')], 120));
    const model = new RunsModel(50);
    await model.refresh();
    await model.setPage(99);
    expect(model.state.page).toBe(2);
    await model.setPage(-4);
    expect(model.state.page).toBe(0);
  });

  it('goes back to the last page when the current one emptied', async () => {
    const model = new RunsModel(10);
    listRuns.mockResolvedValue(page([run('a')], 100));
    await model.refresh();
    await model.setPage(9);
    listRuns.mockReset();
    listRuns
      .mockResolvedValueOnce(page([], 25)) // page 9 is gone: only 25 runs left
      .mockResolvedValueOnce(page([run('z')], 25));
    await model.refresh();
    expect(model.state.page).toBe(2);
    expect(listRuns).toHaveBeenLastCalledWith(
      expect.objectContaining({ offset: 20 })
    );
    expect(model.state.rows.map(r => r.id)).toEqual(['z']);
  });

  it('keeps the error message of a failed load and clears it on success', async () => {
    const model = new RunsModel();
    listRuns.mockRejectedValueOnce(new Error("Unexpected '>' at position 12"));
    await expect(model.setFilter('metrics.acc >> 1')).rejects.toThrow(
      'position 12'
    );
    expect(model.state.error).toBe("Unexpected '>' at position 12");
    expect(model.state.loading).toBe(false);
    listRuns.mockResolvedValue(page([]));
    await model.setFilter('');
    expect(model.state.error).toBeNull();
  });

  it('ignores an answer that a newer request superseded', async () => {
    const model = new RunsModel();
    let resolveOld: (p: MlopsAPI.IListRunsResponse) => void = () => undefined;
    listRuns
      .mockImplementationOnce(() => new Promise(r => (resolveOld = r)))
      .mockResolvedValueOnce(page([run('new')]));
    const old = model.refresh();
    await model.setScope({ kind: 'experiment', name: 'x' });
    resolveOld(page([run('old')]));
    expect(await old).toBe(false);
    expect(model.state.rows.map(r => r.id)).toEqual(['new']);
  });
});
