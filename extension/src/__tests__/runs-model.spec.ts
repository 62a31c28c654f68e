import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  RunsModel,
  columnsFor,
  effectiveFilter,
  errorSummary,
  elapsed,
  fieldRef,
  formatDuration,
  formatValue,
  orderBy,
  queryFor
} from '../runs/runs-model';
import { runSummary } from './run-summary';

jest.mock('../api', () => ({ listRuns: jest.fn(), getRun: jest.fn() }));

const listRuns = api.listRuns as jest.MockedFunction<typeof api.listRuns>;
const getRun = api.getRun as jest.MockedFunction<typeof api.getRun>;

const run = runSummary;

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

describe('runs table features', () => {
  beforeEach(() => {
    listRuns.mockReset();
    getRun.mockReset();
  });

  it('narrows the typed filter to failed and crashed runs', () => {
    expect(effectiveFilter('', false)).toBe('');
    expect(effectiveFilter('', true)).toBe("status in ('failed', 'crashed')");
    expect(effectiveFilter(' metrics.acc > 0.9 or params.C = 1 ', true)).toBe(
      "(metrics.acc > 0.9 or params.C = 1) and status in ('failed', 'crashed')"
    );
  });

  it('sends the failed-only filter from the first page', async () => {
    listRuns.mockResolvedValue(page([], 300));
    const model = new RunsModel(50);
    await model.setPage(4);
    await model.setFailedOnly(true);
    expect(listRuns).toHaveBeenLastCalledWith(
      expect.objectContaining({
        filter: "status in ('failed', 'crashed')",
        offset: 0
      })
    );
  });

  it('summarises a traceback by its last line, cut to length', () => {
    const tb =
      'Traceback (most recent call last):\n  File "<cell>", line 3\nValueError: bad C\n\n';
    expect(errorSummary(tb)).toBe('ValueError: bad C');
    expect(errorSummary(null)).toBe('');
    expect(errorSummary('x'.repeat(200), 10)).toBe('xxxxxxxxx…');
  });

  it('loads the error line of failed rows once and shows it by run id', async () => {
    listRuns.mockResolvedValue(
      page([run('ok'), run('bad', { status: 'failed' })])
    );
    getRun.mockResolvedValue({
      error: 'Traceback...\nZeroDivisionError: division by zero'
    } as MlopsAPI.IDescribeRunResponse);
    const model = new RunsModel();
    await model.refresh();
    await model.refresh();
    expect(getRun).toHaveBeenCalledTimes(1);
    expect(getRun).toHaveBeenCalledWith('bad');
    expect(model.state.errors).toEqual({
      bad: 'ZeroDivisionError: division by zero'
    });
  });

  it('shows the chosen columns, any metric or param of the page', async () => {
    listRuns.mockResolvedValue(
      page([run('a')], 1, {
        metric_keys: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'],
        param_keys: ['p1', 'p2']
      })
    );
    const model = new RunsModel();
    await model.refresh();
    model.setColumns(['metrics.m6', 'params.p2']);
    expect(model.state.metricColumns).toEqual(['m6']);
    expect(model.state.paramColumns).toEqual(['p2']);
    await model.refresh(); // the choice survives a reload
    expect(model.state.metricColumns).toEqual(['m6']);
    model.setColumns(null);
    expect(model.state.metricColumns).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(columnsFor([], ['a'], ['b'])).toEqual({
      metricColumns: [],
      paramColumns: []
    });
  });

  it('does not carry a sort or ticked runs over to another scope', async () => {
    listRuns.mockResolvedValue(page([run('a'), run('b')]));
    const model = new RunsModel();
    await model.toggleSort('metrics', 'acc');
    model.toggleSelected('a');
    await model.setScope({ kind: 'experiment', name: 'other' });
    expect(model.state.sort).toEqual({
      entity: 'attributes',
      key: 'start_time',
      descending: true
    });
    expect(model.state.selected).toEqual([]);
    expect(listRuns).toHaveBeenLastCalledWith(
      expect.objectContaining({ order_by: ['start_time DESC'] })
    );
  });

  it('compares two or more ticked runs, in the order ticked', () => {
    const model = new RunsModel();
    const compared: string[][] = [];
    model.onCompare = ids => compared.push(ids);
    model.toggleSelected('b');
    model.compareSelected(); // one run: nothing to compare
    model.toggleSelected('a');
    model.toggleSelected('c');
    model.toggleSelected('c'); // unticked again
    model.compareSelected();
    expect(compared).toEqual([['b', 'a']]);
    model.clearSelection();
    expect(model.state.selected).toEqual([]);
  });
});
