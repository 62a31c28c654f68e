import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  VersionsModel,
  diffTitle,
  orderSides,
  relativeTime
} from '../versions/versions-model';

jest.mock('../api', () => ({
  listNotebookVersions: jest.fn(),
  diffNotebooks: jest.fn(),
  restoreNotebookVersion: jest.fn()
}));

const listVersions = api.listNotebookVersions as jest.MockedFunction<
  typeof api.listNotebookVersions
>;
const diffNotebooks = api.diffNotebooks as jest.MockedFunction<
  typeof api.diffNotebooks
>;
const restore = api.restoreNotebookVersion as jest.MockedFunction<
  typeof api.restoreNotebookVersion
>;

function version(id: number, runIds: string[] = []): MlopsAPI.INotebookVersion {
  return {
    id,
    path: `/root/nb.ipynb`,
    jupyter_path: 'nb.ipynb',
    blob_hash: `${id}`.padEnd(64, '0'),
    short_hash: `${id}`.padEnd(10, '0'),
    size: 100,
    created_at: 1000 + id,
    run_ids: runIds
  };
}

const emptyDiff: MlopsAPI.IDiffNotebooksResponse = {
  a: '1',
  b: '2',
  cells: [],
  summary: { added: 0, removed: 0, changed: 0, moved: 0, unchanged: 0 }
};

describe('versions helpers', () => {
  it('orders sides older first, with the notebook now always last', () => {
    expect(orderSides(5, 2)).toEqual([2, 5]);
    expect(orderSides(2, 5)).toEqual([2, 5]);
    expect(orderSides('current', 3)).toEqual([3, 'current']);
    expect(orderSides(3, 'current')).toEqual([3, 'current']);
  });

  it('titles diff tabs with the file name and both sides', () => {
    expect(diffTitle('work/train.ipynb', [3, 'current'])).toBe(
      'train.ipynb: v3 → now'
    );
    expect(diffTitle('nb.ipynb', [1, 2])).toBe('nb.ipynb: v1 → v2');
  });

  it('labels times relative to now', () => {
    expect(relativeTime(1000, 1030)).toBe('just now');
    expect(relativeTime(1000, 1000 + 300)).toBe('5 min ago');
    expect(relativeTime(1000, 1000 + 7200)).toBe('2 h ago');
    expect(relativeTime(0, 10 * 86400)).toBe('1970-01-01 00:00');
  });
});

describe('VersionsModel', () => {
  beforeEach(() => {
    listVersions.mockReset();
    diffNotebooks.mockReset();
    restore.mockReset();
  });

  it('loads the history of the followed notebook and reports changes', async () => {
    listVersions.mockResolvedValue([version(2), version(1)]);
    const model = new VersionsModel();
    expect(await model.setPath('nb.ipynb')).toBe(true);
    expect(listVersions).toHaveBeenCalledWith('nb.ipynb');
    expect(model.state.versions.map(v => v.id)).toEqual([2, 1]);
    expect(await model.refresh()).toBe(false);
    listVersions.mockResolvedValue([version(2, ['run1']), version(1)]);
    expect(await model.refresh()).toBe(true); // a run now uses v2
  });

  it('does nothing without a notebook', async () => {
    const model = new VersionsModel();
    expect(await model.setPath(null)).toBe(false);
    expect(listVersions).not.toHaveBeenCalled();
  });

  it('picks at most two sides, dropping the oldest pick', () => {
    const model = new VersionsModel();
    model.toggle(1);
    model.toggle(2);
    model.toggle('current');
    expect(model.state.selected).toEqual([2, 'current']);
    model.toggle(2);
    expect(model.state.selected).toEqual(['current']);
    expect(model.canCompare).toBe(false);
  });

  it('compares the two picks older first, passing the notebook path', async () => {
    listVersions.mockResolvedValue([version(7), version(3)]);
    diffNotebooks.mockResolvedValue(emptyDiff);
    const model = new VersionsModel();
    await model.setPath('work/nb.ipynb');
    model.toggle(7);
    model.toggle(3);
    await model.compare();
    expect(diffNotebooks).toHaveBeenCalledWith(3, 7, 'work/nb.ipynb');
    expect(model.state.diff).toBe(emptyDiff);
    expect(model.state.diffSides).toEqual([3, 7]);
    model.closeDiff();
    expect(model.state.diff).toBeNull();
  });

  it('forgets picks of versions that disappeared', async () => {
    listVersions.mockResolvedValue([version(2), version(1)]);
    const model = new VersionsModel();
    await model.setPath('nb.ipynb');
    model.toggle(1);
    model.toggle('current');
    listVersions.mockResolvedValue([version(2)]);
    await model.refresh();
    expect(model.state.selected).toEqual(['current']);
  });

  it('switching notebooks clears picks and the diff', async () => {
    listVersions.mockResolvedValue([version(1)]);
    diffNotebooks.mockResolvedValue(emptyDiff);
    const model = new VersionsModel();
    await model.setPath('a.ipynb');
    await model.compareSides(1, 'current');
    model.toggle(1);
    await model.setPath('b.ipynb');
    expect(model.state.selected).toEqual([]);
    expect(model.state.diff).toBeNull();
    expect(model.state.path).toBe('b.ipynb');
  });

  it('restores next to the followed notebook and returns the new path', async () => {
    listVersions.mockResolvedValue([version(4)]);
    restore.mockResolvedValue({ path: 'work/nb.v4.ipynb', version_id: 4 });
    const model = new VersionsModel();
    await model.setPath('work/nb.ipynb');
    expect(await model.restore(4)).toBe('work/nb.v4.ipynb');
    expect(restore).toHaveBeenCalledWith(4, 'work/nb.ipynb');
  });

  it('keeps the server message when a diff fails', async () => {
    listVersions.mockResolvedValue([version(1)]);
    diffNotebooks.mockRejectedValue(
      new Error('No notebook version with id 1.')
    );
    const model = new VersionsModel();
    await model.setPath('nb.ipynb');
    await expect(model.compareSides(1, 'current')).rejects.toThrow('id 1');
    expect(model.state.error).toBe('No notebook version with id 1.');
    expect(model.state.loading).toBe(false);
  });
});
