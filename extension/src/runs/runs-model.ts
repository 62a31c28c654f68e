/**
 * State of the runs view: the scope (a notebook, an experiment, or everything), the filter,
 * the sort, the page, and the rows of the current page. Pure data handling: it talks to the
 * server only through src/api.ts, which the jest tests mock.
 */
import { MlopsAPI, getRun, listRuns } from '../api';

/** What the table lists. */
export type RunScope =
  | { kind: 'notebook'; path: string }
  | { kind: 'experiment'; name: string }
  | { kind: 'all' };

/** A sortable column: an attribute, a metric or a param. */
export interface ISortKey {
  /** attributes (start_time, status, name...), metrics or params. */
  entity: 'attributes' | 'metrics' | 'params';
  /** Column name. */
  key: string;
  /** Descending order. */
  descending: boolean;
}

/** Everything the view renders. */
export interface IRunsState {
  /** What is listed. */
  scope: RunScope;
  /** The filter text as typed. */
  filter: string;
  /** The active sort. */
  sort: ISortKey;
  /** Zero-based page. */
  page: number;
  /** Rows per page. */
  pageSize: number;
  /** The rows of the page. */
  rows: MlopsAPI.IRunSummary[];
  /** Rows matching in all. */
  total: number;
  /** Metric columns to show. */
  metricColumns: string[];
  /** Param columns to show. */
  paramColumns: string[];
  /** Every metric name of the page (what the column chooser offers). */
  metricKeys: string[];
  /** Every param name of the page. */
  paramKeys: string[];
  /** Columns the user chose (`metrics.acc`, `params.C`); null shows the first few of each. */
  chosenColumns: string[] | null;
  /** Only failed and crashed runs. */
  failedOnly: boolean;
  /** Ticked runs (kept across pages, cleared with the scope), in the order ticked. */
  selected: string[];
  /** The last line of each failed row's error, by run id. */
  errors: Record<string, string>;
  /** The last error message, if the last load failed. */
  error: string | null;
  /** Whether a load is running. */
  loading: boolean;
}

/** How many metric and param columns the table shows at most. */
export const MAX_COLUMNS = 4;

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_\-:/]*$/;

/** A field reference of the filter language (`metrics.acc`, ``metrics.`val loss` ``). */
export function fieldRef(entity: ISortKey['entity'], key: string): string {
  if (entity === 'attributes') {
    return key;
  }
  return PLAIN_NAME.test(key) ? `${entity}.${key}` : `${entity}.\`${key}\``;
}

/** The `order_by` item for a sort key. */
export function orderBy(sort: ISortKey): string {
  return `${fieldRef(sort.entity, sort.key)} ${sort.descending ? 'DESC' : 'ASC'}`;
}

/** A fingerprint of a page: changes when a run appears, ends, or logs a new value. */
export function pageSignature(page: MlopsAPI.IListRunsResponse): string {
  return JSON.stringify([
    page.total,
    page.runs.map(r => [
      r.id,
      r.status,
      r.end_time,
      r.metrics,
      r.notebook_version_id
    ])
  ]);
}

/** Seconds as "850 ms", "42 s", "3 min 5 s" or "2 h 4 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) {
    return '';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${Math.round(seconds % 60)} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Seconds a run took, or has taken so far while it runs. */
export function elapsed(
  run: MlopsAPI.IRunSummary,
  now = Date.now() / 1000
): number | null {
  if (run.duration !== null && run.duration !== undefined) {
    return run.duration;
  }
  return run.status === 'running' ? Math.max(0, now - run.start_time) : null;
}

/** A metric value with 4 significant digits (integers stay integers). */
export function formatValue(value: number | undefined): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6)
    ? value.toExponential(3)
    : String(Number(value.toPrecision(4)));
}

/** The default sort: newest first. */
export const DEFAULT_SORT: ISortKey = {
  entity: 'attributes',
  key: 'start_time',
  descending: true
};

/** The filter that keeps failed and crashed runs. */
export const FAILED_FILTER = "status in ('failed', 'crashed')";

/** The filter sent to the server: the typed one, narrowed to failures when asked. */
export function effectiveFilter(filter: string, failedOnly: boolean): string {
  const typed = filter.trim();
  if (!failedOnly) {
    return typed;
  }
  return typed ? `(${typed}) and ${FAILED_FILTER}` : FAILED_FILTER;
}

/**
 * The line of a traceback that says what went wrong: the last non-blank line
 * (`ValueError: bad input`), cut to `max` characters.
 */
export function errorSummary(error: string | null, max = 120): string {
  const lines = (error ?? '').split('\n').filter(line => line.trim());
  const last = lines.length ? lines[lines.length - 1].trim() : '';
  return last.length > max ? `${last.slice(0, max - 1)}…` : last;
}

/** The label of a run: its name, else the first 8 characters of its id. */
export function runLabel(run: { id: string; name: string | null }): string {
  return run.name || run.id.slice(0, 8);
}

/**
 * The error summary of each failed or crashed run of `rows` whose id is not in `known`, from
 * its detail: list answers carry no tracebacks (they can be long), and a page has few failures.
 */
export async function fetchErrorSummaries(
  rows: MlopsAPI.IRunSummary[],
  known: Record<string, string>
): Promise<Record<string, string>> {
  const missing = rows.filter(
    r => (r.status === 'failed' || r.status === 'crashed') && !(r.id in known)
  );
  const found = await Promise.all(
    missing.map(r =>
      getRun(r.id).then(
        detail => [r.id, errorSummary(detail.error)] as const,
        () => [r.id, ''] as const
      )
    )
  );
  const errors: Record<string, string> = {};
  for (const [id, summary] of found) {
    errors[id] = summary;
  }
  return errors;
}

/** The metric and param columns for a page, from the user's choice or the defaults. */
export function columnsFor(
  chosen: string[] | null,
  metricKeys: string[],
  paramKeys: string[]
): { metricColumns: string[]; paramColumns: string[] } {
  if (chosen === null) {
    return {
      metricColumns: metricKeys.slice(0, MAX_COLUMNS),
      paramColumns: paramKeys.slice(0, MAX_COLUMNS)
    };
  }
  const pick = (prefix: string) =>
    chosen.filter(c => c.startsWith(prefix)).map(c => c.slice(prefix.length));
  return { metricColumns: pick('metrics.'), paramColumns: pick('params.') };
}

/** The query for the current state. */
export function queryFor(state: IRunsState): MlopsAPI.IListRunsQuery {
  const query: MlopsAPI.IListRunsQuery = {
    order_by: [orderBy(state.sort)],
    limit: state.pageSize,
    offset: state.page * state.pageSize
  };
  if (state.scope.kind === 'notebook') {
    query.notebook = state.scope.path;
  } else if (state.scope.kind === 'experiment') {
    query.experiment = state.scope.name;
  }
  const filter = effectiveFilter(state.filter, state.failedOnly);
  if (filter) {
    query.filter = filter;
  }
  return query;
}

/** Keeps the runs view's state and loads pages through the API. */
export class RunsModel {
  /** @param pageSize rows per page. */
  constructor(pageSize = 50) {
    this.state = {
      scope: { kind: 'all' },
      filter: '',
      sort: DEFAULT_SORT,
      page: 0,
      pageSize,
      rows: [],
      total: 0,
      metricColumns: [],
      paramColumns: [],
      metricKeys: [],
      paramKeys: [],
      chosenColumns: null,
      failedOnly: false,
      selected: [],
      errors: {},
      error: null,
      loading: false
    };
  }

  /** The current state (replaced, never mutated, on each change). */
  state: IRunsState;

  /** Called after every state change. */
  onChange: (state: IRunsState) => void = () => undefined;

  /** Number of pages (at least 1). */
  get pageCount(): number {
    return Math.max(1, Math.ceil(this.state.total / this.state.pageSize));
  }

  /** Load the current page; resolves true when it differs from the last one loaded. */
  async refresh(): Promise<boolean> {
    const ticket = ++this.ticket;
    this.update({ loading: true });
    try {
      const page = await listRuns(queryFor(this.state));
      if (ticket !== this.ticket) {
        return false; // a newer request superseded this one
      }
      const signature = pageSignature(page);
      const changed = signature !== this.signature;
      this.signature = signature;
      const beyond = this.state.page * this.state.pageSize >= page.total;
      if (
        page.runs.length === 0 &&
        page.total > 0 &&
        this.state.page > 0 &&
        beyond
      ) {
        // The page emptied (runs deleted, filter narrowed): go to the last page that exists.
        this.update({ page: Math.ceil(page.total / this.state.pageSize) - 1 });
        return this.refresh();
      }
      this.update({
        rows: page.runs,
        total: page.total,
        metricKeys: page.metric_keys,
        paramKeys: page.param_keys,
        ...columnsFor(
          this.state.chosenColumns,
          page.metric_keys,
          page.param_keys
        ),
        error: null,
        loading: false
      });
      await this.loadErrors(page.runs);
      return changed;
    } catch (error) {
      if (ticket === this.ticket) {
        this.update({ error: (error as Error).message, loading: false });
      }
      throw error;
    }
  }

  /**
   * Show another scope from its first page, newest first: a sort on one experiment's metric
   * means nothing in another, so it does not carry over, and neither do ticked runs.
   */
  setScope(scope: RunScope): Promise<boolean> {
    this.update({ scope, page: 0, sort: DEFAULT_SORT, selected: [] });
    return this.refresh();
  }

  /** Show only failed and crashed runs, or all again. */
  setFailedOnly(failedOnly: boolean): Promise<boolean> {
    this.update({ failedOnly, page: 0 });
    return this.refresh();
  }

  /** Choose the metric/param columns (`metrics.acc`, `params.C`); null for the defaults. */
  setColumns(chosen: string[] | null): void {
    this.update({
      chosenColumns: chosen,
      ...columnsFor(chosen, this.state.metricKeys, this.state.paramKeys)
    });
  }

  /** Tick or untick a run. */
  toggleSelected(runId: string): void {
    const { selected } = this.state;
    this.update({
      selected: selected.includes(runId)
        ? selected.filter(id => id !== runId)
        : [...selected, runId]
    });
  }

  /** Untick every run. */
  clearSelection(): void {
    this.update({ selected: [] });
  }

  /** Called with the ticked runs when the user asks to compare them. */
  onCompare: (runIds: string[]) => void = () => undefined;

  /** Compare the ticked runs (two or more). */
  compareSelected(): void {
    if (this.state.selected.length >= 2) {
      this.onCompare([...this.state.selected]);
    }
  }

  /** Fetch the error summary of failed rows not seen yet, so each shows its line. */
  private async loadErrors(rows: MlopsAPI.IRunSummary[]): Promise<void> {
    const found = await fetchErrorSummaries(rows, this.state.errors);
    if (Object.keys(found).length) {
      this.update({ errors: { ...this.state.errors, ...found } });
    }
  }

  /** Apply a filter expression from the first page. */
  setFilter(filter: string): Promise<boolean> {
    this.update({ filter, page: 0 });
    return this.refresh();
  }

  /** Sort by a column; the same column again flips the direction. */
  toggleSort(entity: ISortKey['entity'], key: string): Promise<boolean> {
    const { sort } = this.state;
    const same = sort.entity === entity && sort.key === key;
    this.update({
      sort: { entity, key, descending: same ? !sort.descending : true },
      page: 0
    });
    return this.refresh();
  }

  /** Go to a page (clamped to the pages that exist). */
  setPage(page: number): Promise<boolean> {
    this.update({ page: Math.min(Math.max(0, page), this.pageCount - 1) });
    return this.refresh();
  }

  /** Change the page size (back to the first page). */
  setPageSize(pageSize: number): Promise<boolean> {
    this.update({ pageSize, page: 0 });
    return this.refresh();
  }

  private update(change: Partial<IRunsState>): void {
    this.state = { ...this.state, ...change };
    this.onChange(this.state);
  }

  private ticket = 0;
  private signature = '';
}
