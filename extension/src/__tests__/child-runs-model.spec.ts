import * as api from '../api';
import type { MlopsAPI } from '../api';
import { MAX_CHILDREN, loadFamily } from '../runs/child-runs-model';
import { runLabel } from '../runs/runs-model';
import { runSummary } from './run-summary';

jest.mock('../api', () => ({ listRuns: jest.fn(), getRun: jest.fn() }));

const listRuns = api.listRuns as jest.MockedFunction<typeof api.listRuns>;
const getRun = api.getRun as jest.MockedFunction<typeof api.getRun>;

function run(
  id: string,
  extra: Partial<MlopsAPI.IRunSummary> = {}
): MlopsAPI.IRunSummary {
  return runSummary(id, { source: 'automation', ...extra });
}

function detail(
  summary: MlopsAPI.IRunSummary,
  error: string | null
): MlopsAPI.IDescribeRunResponse {
  return { ...summary, error } as MlopsAPI.IDescribeRunResponse;
}

function page(runs: MlopsAPI.IRunSummary[], total = runs.length) {
  return {
    runs,
    total,
    limit: MAX_CHILDREN,
    offset: 0,
    metric_keys: [],
    param_keys: []
  };
}

beforeEach(() => jest.resetAllMocks());

describe("a run's family", () => {
  it("lists an automation's steps oldest first, the failed one with its error line", async () => {
    const train = run('a'.repeat(32), { name: 'train' });
    const test = run('b'.repeat(32), { name: 'test', status: 'failed' });
    listRuns.mockResolvedValue(page([train, test]));
    getRun.mockResolvedValue(
      detail(
        test,
        'Traceback ...\n  File "x"\nAssertionError: accuracy 0.61 < 0.85\n'
      )
    );

    const family = await loadFamily({
      id: 'p'.repeat(32),
      parent_run_id: null
    });

    expect(listRuns).toHaveBeenCalledWith({
      parent: 'p'.repeat(32),
      order_by: ['start_time ASC'],
      limit: MAX_CHILDREN
    });
    expect(getRun).toHaveBeenCalledTimes(1); // only the failed child's detail
    expect(family.parent).toBeNull();
    expect(family.total).toBe(2);
    expect(family.children.map(c => [c.label, c.status, c.error])).toEqual([
      ['train', 'finished', ''],
      ['test', 'failed', 'AssertionError: accuracy 0.61 < 0.85']
    ]);
  });

  it('names the parent of a step, by its id when it has no name', async () => {
    const parent = run('c'.repeat(32), { status: 'running' });
    listRuns.mockResolvedValue(page([]));
    getRun.mockResolvedValue(detail(parent, null));

    const family = await loadFamily({
      id: 'a'.repeat(32),
      parent_run_id: parent.id
    });

    expect(getRun).toHaveBeenCalledWith(parent.id);
    expect(family.parent).toEqual({
      id: parent.id,
      label: 'cccccccc',
      status: 'running',
      duration: 10,
      error: ''
    });
    expect(family.total).toBe(0);
  });

  it('still lists the children when the parent is gone, and says how many there are', async () => {
    listRuns.mockResolvedValue(page([run('d'.repeat(32))], 250));
    getRun.mockRejectedValue(new Error('The run id names no run'));

    const family = await loadFamily({
      id: 'a'.repeat(32),
      parent_run_id: 'e'.repeat(32)
    });

    expect(family.parent).toBeNull();
    expect(family.children).toHaveLength(1);
    expect(family.total).toBe(250);
  });

  it('labels a run by name, else by the start of its id', () => {
    expect(runLabel({ id: 'f'.repeat(32), name: 'nightly' })).toBe('nightly');
    expect(runLabel({ id: '0123456789'.repeat(3) + 'ab', name: null })).toBe(
      '01234567'
    );
  });
});
