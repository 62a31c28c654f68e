/**
 * State of the versions view: the active notebook's history, the (at most two) versions picked
 * for comparison, the diff on screen, and restoring. Talks to the server only through api.ts.
 */
import {
  MlopsAPI,
  diffNotebooks,
  listNotebookVersions,
  restoreNotebookVersion
} from '../api';

/** One side of a comparison: a stored version or the notebook as saved now. */
export type DiffSide = number | 'current';

/** Everything the versions view renders. */
export interface IVersionsState {
  /** Jupyter path of the notebook, null when no notebook is active. */
  path: string | null;
  /** Its versions, newest first. */
  versions: MlopsAPI.INotebookVersion[];
  /** Picked versions, in the order they were picked (at most two). */
  selected: DiffSide[];
  /** The diff on screen. */
  diff: MlopsAPI.IDiffNotebooksResponse | null;
  /** The sides of the diff on screen, older first. */
  diffSides: [DiffSide, DiffSide] | null;
  /** The last error message. */
  error: string | null;
  /** Whether a request is running. */
  loading: boolean;
}

/** A short "2 min ago" / "3 h ago" / date label for an epoch time. */
export function relativeTime(
  epochSeconds: number,
  now = Date.now() / 1000
): string {
  const delta = Math.max(0, now - epochSeconds);
  if (delta < 60) {
    return 'just now';
  }
  if (delta < 3600) {
    return `${Math.floor(delta / 60)} min ago`;
  }
  if (delta < 86400) {
    return `${Math.floor(delta / 3600)} h ago`;
  }
  return new Date(epochSeconds * 1000)
    .toISOString()
    .slice(0, 16)
    .replace('T', ' ');
}

/**
 * Order two sides older first: 'current' is always the newer side; of two versions the one
 * recorded first (smaller id, ids grow with time) is older.
 */
export function orderSides(a: DiffSide, b: DiffSide): [DiffSide, DiffSide] {
  if (a === 'current') {
    return [b, a];
  }
  if (b === 'current') {
    return [a, b];
  }
  return a <= b ? [a, b] : [b, a];
}

/** The label of a diff tab, e.g. "train.ipynb: v3 → now". */
export function diffTitle(path: string, sides: [DiffSide, DiffSide]): string {
  const name = path.split('/').pop() ?? path;
  const label = (side: DiffSide) => (side === 'current' ? 'now' : `v${side}`);
  return `${name}: ${label(sides[0])} → ${label(sides[1])}`;
}

/** Keeps the versions view's state. */
export class VersionsModel {
  /** The current state (replaced on each change). */
  state: IVersionsState = {
    path: null,
    versions: [],
    selected: [],
    diff: null,
    diffSides: null,
    error: null,
    loading: false
  };

  /** Called after every state change. */
  onChange: (state: IVersionsState) => void = () => undefined;

  /** Follow another notebook (null: none is active). */
  async setPath(path: string | null): Promise<boolean> {
    if (path === this.state.path) {
      return false;
    }
    this.signature = '';
    this.update({
      path,
      versions: [],
      selected: [],
      diff: null,
      diffSides: null,
      error: null
    });
    return this.refresh();
  }

  /** Reload the history; resolves true when it changed. */
  async refresh(): Promise<boolean> {
    const path = this.state.path;
    if (!path) {
      return false;
    }
    this.update({ loading: true });
    try {
      const versions = await listNotebookVersions(path);
      if (path !== this.state.path) {
        return false;
      }
      const signature = JSON.stringify(versions.map(v => [v.id, v.run_ids]));
      const changed = signature !== this.signature;
      this.signature = signature;
      const known = new Set<DiffSide>(['current', ...versions.map(v => v.id)]);
      this.update({
        versions,
        selected: this.state.selected.filter(s => known.has(s)),
        error: null,
        loading: false
      });
      return changed;
    } catch (error) {
      this.update({ error: (error as Error).message, loading: false });
      throw error;
    }
  }

  /** Pick or unpick a side; picking a third drops the oldest pick. */
  toggle(side: DiffSide): void {
    const selected = this.state.selected.includes(side)
      ? this.state.selected.filter(s => s !== side)
      : [...this.state.selected, side].slice(-2);
    this.update({ selected });
  }

  /** Whether two sides are picked. */
  get canCompare(): boolean {
    return this.state.selected.length === 2 && this.state.path !== null;
  }

  /** Load the diff of the two picked sides (older first). */
  async compare(): Promise<MlopsAPI.IDiffNotebooksResponse | null> {
    if (!this.canCompare) {
      return null;
    }
    const [a, b] = this.state.selected;
    return this.compareSides(a, b);
  }

  /** Load the diff of any two sides (older first). */
  async compareSides(
    a: DiffSide,
    b: DiffSide
  ): Promise<MlopsAPI.IDiffNotebooksResponse> {
    const sides = orderSides(a, b);
    this.update({ loading: true });
    try {
      const diff = await diffNotebooks(
        sides[0],
        sides[1],
        this.state.path ?? undefined
      );
      this.update({ diff, diffSides: sides, error: null, loading: false });
      return diff;
    } catch (error) {
      this.update({ error: (error as Error).message, loading: false });
      throw error;
    }
  }

  /** Close the diff. */
  closeDiff(): void {
    this.update({ diff: null, diffSides: null });
  }

  /** Restore a version as a new file next to the notebook; resolves its Jupyter path. */
  async restore(versionId: number): Promise<string> {
    const result = await restoreNotebookVersion(
      versionId,
      this.state.path ?? undefined
    );
    return result.path;
  }

  private update(change: Partial<IVersionsState>): void {
    this.state = { ...this.state, ...change };
    this.onChange(this.state);
  }

  private signature = '';
}
