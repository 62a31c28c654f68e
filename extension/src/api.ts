/**
 * The only module of the extension that talks HTTP. One typed function per endpoint of the
 * server extension (documented in kernel_magics/server/openapi.yaml); the interfaces mirror the
 * Python models in kernel_magics/server/models.py one for one.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The REST namespace; `API_NAMESPACE` in kernel_magics/server/app.py says the same. */
export const API_NAMESPACE = 'mlops/api';

/**
 * Types of the REST API, one for one with the Python models in kernel_magics/server/models/
 * (`IListRunsResponse` <-> `ListRunsResponse`); tests/server/test_contracts.py fails when a
 * field, a model or a status/source name exists on one side only.
 */
export namespace MlopsAPI {
  /** Run statuses (core/names.py RUN_STATUSES, in order). */
  export type RunStatus =
    'running' | 'finished' | 'failed' | 'crashed' | 'killed';

  /** Run sources (core/names.py RUN_SOURCES, in order). */
  export type RunSource = 'api' | 'cell' | 'papermill' | 'schedule' | 'sweep';

  /** What happened to a cell between two notebooks. */
  export type CellStatus = 'added' | 'removed' | 'changed' | 'unchanged';

  /** Every error answer (Python `ErrorResponse`). */
  export interface IErrorResponse {
    /** Names the problem and the fix. */
    message: string;
    /** The HTTP reason phrase. */
    reason?: string | null;
  }

  /** Answer of `GET status` (Python `DescribeStatusResponse`). */
  export interface IDescribeStatusResponse {
    /** Extension version. */
    version: string;
    /** Database URL, password hidden. */
    store_uri: string;
    /** Artifact root, password hidden. */
    artifacts_uri: string;
    /** Why this store was chosen. */
    reason: string;
  }

  /** An experiment with its run count. */
  export interface IExperiment {
    /** Numeric id. */
    id: number;
    /** Unique name. */
    name: string;
    /** Free text. */
    description: string | null;
    /** UTC epoch seconds. */
    created_at: number;
    /** How many runs it has. */
    run_count: number;
    /** Start of its newest run. */
    last_run_at: number | null;
  }

  /** Answer of `GET experiments` (Python `ListExperimentsResponse`). */
  export interface IListExperimentsResponse {
    /** Most recently active first. */
    experiments: IExperiment[];
  }

  /** One row of the runs table. */
  export interface IRunSummary {
    /** 32 hex characters. */
    id: string;
    /** Optional run name. */
    name: string | null;
    /** Experiment name. */
    experiment: string;
    /** Lifecycle status; a dead run shows as crashed. */
    status: RunStatus;
    /** What made the run. */
    source: RunSource;
    /** UTC epoch seconds. */
    start_time: number;
    /** UTC epoch seconds, null while running. */
    end_time: number | null;
    /** Seconds, null while running. */
    duration: number | null;
    /** Absolute path of the notebook that made the run. */
    notebook_path: string | null;
    /** The notebook version the run used. */
    notebook_version_id: number | null;
    /** Parent run of a sweep. */
    parent_run_id: string | null;
    /** Who ran it. */
    user?: string | null;
    /** Parameters (strings). */
    params: Record<string, string>;
    /** Latest value of each metric. */
    metrics: Record<string, number>;
    /** Tags. */
    tags: Record<string, string>;
  }

  /** Query of `GET runs` (Python `ListRunsQuery`). */
  export interface IListRunsQuery {
    /** Only this experiment's runs. */
    experiment?: string;
    /** Only this notebook's runs (Jupyter path). */
    notebook?: string;
    /** Filter expression, e.g. `metrics.acc > 0.9`. */
    filter?: string;
    /** Sort keys, e.g. `metrics.acc DESC`. */
    order_by?: string[];
    /** Page size. */
    limit?: number;
    /** First row. */
    offset?: number;
  }

  /** Answer of `GET runs` (Python `ListRunsResponse`). */
  export interface IListRunsResponse {
    /** The page. */
    runs: IRunSummary[];
    /** Rows that matched in all. */
    total: number;
    /** Page size used. */
    limit: number;
    /** First row. */
    offset: number;
    /** Metric names present on the page. */
    metric_keys: string[];
    /** Param names present on the page. */
    param_keys: string[];
  }

  /** A stored artifact. */
  export interface IArtifact {
    /** Relative path inside the run. */
    path: string;
    /** Bytes. */
    size: number;
    /** MIME type. */
    media_type: string | null;
    /** BLAKE3 digest. */
    blob_hash: string;
  }

  /** A dataset version a run read (role input) or wrote (role output). */
  export interface IDatasetUse {
    /** Dataset name. */
    name: string;
    /** Dataset version id. */
    version_id: number;
    /** Content digest. */
    hash: string;
    /** Row count. */
    rows: number | null;
    /** Bytes. */
    size: number | null;
    /** Columns and dtypes (JSON). */
    schema: string | null;
    /** Where it was read from. */
    source: string | null;
    /** input or output. */
    role: string;
  }

  /** A stored notebook version. */
  export interface INotebookVersion {
    /** Version id. */
    id: number;
    /** Absolute path when recorded. */
    path: string;
    /** Path relative to the Jupyter root, when inside it. */
    jupyter_path: string | null;
    /** Content digest. */
    blob_hash: string;
    /** First 10 characters of the digest. */
    short_hash: string;
    /** File size in bytes. */
    size: number | null;
    /** UTC epoch seconds. */
    created_at: number;
    /** Runs that used this version, newest first. */
    run_ids: string[];
  }

  /** Answer of `GET runs/{id}` (Python `DescribeRunResponse`). */
  export interface IDescribeRunResponse extends IRunSummary {
    /** Numeric id of the experiment. */
    experiment_id: number;
    /** Last sign of life (UTC epoch seconds). */
    heartbeat_at: number | null;
    /** Process id of the run's process. */
    pid: number | null;
    /** Host of the run's process. */
    hostname: string | null;
    /** Digest of the environment blob. */
    environment_hash: string | null;
    /** Traceback or reason of a failed or crashed run. */
    error: string | null;
    /** Artifacts by path. */
    artifacts: IArtifact[];
    /** Datasets read or written. */
    datasets: IDatasetUse[];
    /** Metric names. */
    metric_keys: string[];
    /** Warnings such as cells run out of order. */
    warnings: string[];
    /** Python, platform, packages, git. */
    environment: Record<string, unknown> | null;
    /** The notebook version used. */
    notebook_version: INotebookVersion | null;
    /** The notebook's path relative to the Jupyter root. */
    jupyter_path: string | null;
  }

  /** Answer of `GET runs/{id}/metrics` (Python `ListRunMetricsResponse`). */
  export interface IListRunMetricsResponse {
    /** Full run id. */
    run_id: string;
    /** Metric names. */
    keys: string[];
  }

  /** Query of `GET runs/{id}/metrics/{key}` (Python `DescribeMetricQuery`). */
  export interface IDescribeMetricQuery {
    /** Thin to this many points. */
    max_points?: number;
  }

  /** One point of a metric series. */
  export interface IMetricPoint {
    /** Step. */
    step: number;
    /** UTC epoch seconds. */
    timestamp: number;
    /** Value. */
    value: number;
  }

  /** Answer of `GET runs/{id}/metrics/{key}` (Python `DescribeMetricResponse`). */
  export interface IDescribeMetricResponse {
    /** Run id. */
    run_id: string;
    /** Metric name. */
    key: string;
    /** Thinning limit applied. */
    max_points: number;
    /** Points in step order. */
    points: IMetricPoint[];
  }

  /** Answer of `GET runs/{id}/artifacts` (Python `ListRunArtifactsResponse`). */
  export interface IListRunArtifactsResponse {
    /** Full run id. */
    run_id: string;
    /** Artifacts by path. */
    artifacts: IArtifact[];
  }

  /** Query of `GET runs/{id}/artifacts/{path}` (Python `DownloadArtifactQuery`). */
  export interface IDownloadArtifactQuery {
    /** Anything but 0, false or empty: save the file. */
    download?: string;
  }

  /** Query of `GET notebook_versions` (Python `ListNotebookVersionsQuery`). */
  export interface IListNotebookVersionsQuery {
    /** Jupyter path of the notebook. */
    path: string;
  }

  /** Answer of `GET notebook_versions` (Python `ListNotebookVersionsResponse`). */
  export interface IListNotebookVersionsResponse {
    /** The Jupyter path asked for. */
    path: string;
    /** Newest first. */
    versions: INotebookVersion[];
  }

  /** Answer of `GET notebook_versions/{id}` (Python `DescribeNotebookVersionResponse`). */
  export interface IDescribeNotebookVersionResponse extends INotebookVersion {
    /** The notebook (nbformat JSON). */
    content: Record<string, unknown>;
  }

  /** Query of `GET notebook_diffs` (Python `DiffNotebooksQuery`). */
  export interface IDiffNotebooksQuery {
    /** Older side: a version id or 'current'. */
    a: string;
    /** Newer side: a version id or 'current'. */
    b: string;
    /** Needed when a or b is 'current'. */
    path?: string;
  }

  /** A cell output reduced for comparison. */
  export interface IOutputSummary {
    /** stream, execute_result, display_data or error. */
    output_type: string;
    /** Text of the output. */
    text: string;
    /** Rich MIME types present. */
    media: string[];
  }

  /** One line of a source diff. */
  export interface IDiffLine {
    /** ' ' kept, '-' removed, '+' added. */
    op: ' ' | '-' | '+';
    /** The line. */
    text: string;
  }

  /** One aligned cell of a notebook diff. */
  export interface ICellDiff {
    /** What happened to the cell. */
    status: CellStatus;
    /** code, markdown or raw. */
    cell_type: string;
    /** Index in the older notebook. */
    a_index: number | null;
    /** Index in the newer notebook. */
    b_index: number | null;
    /** Whether the source differs. */
    source_changed: boolean;
    /** Whether the outputs differ. */
    outputs_changed: boolean;
    /** Older source. */
    source_a: string;
    /** Newer source. */
    source_b: string;
    /** Line diff of the source. */
    source_diff: IDiffLine[];
    /** Older outputs. */
    outputs_a: IOutputSummary[];
    /** Newer outputs. */
    outputs_b: IOutputSummary[];
  }

  /** How many cells a diff counts by status. */
  export interface IDiffSummary {
    /** Cells only in the newer notebook. */
    added: number;
    /** Cells only in the older notebook. */
    removed: number;
    /** Cells whose source or outputs differ. */
    changed: number;
    /** Cells that are the same. */
    unchanged: number;
  }

  /** Answer of `GET notebook_diffs` (Python `DiffNotebooksResponse`). */
  export interface IDiffNotebooksResponse {
    /** Older side: a version id or 'current'. */
    a: string;
    /** Newer side: a version id or 'current'. */
    b: string;
    /** Aligned cells. */
    cells: ICellDiff[];
    /** Counts by status. */
    summary: IDiffSummary;
  }

  /** Body of `POST notebook_versions/{id}/restore` (Python `RestoreNotebookVersionRequest`). */
  export interface IRestoreNotebookVersionRequest {
    /** Exact new file (.ipynb); 409 if taken. */
    path?: string;
    /** A notebook (or folder) whose folder gets `<stem>.v<id>.ipynb`. */
    next_to?: string;
  }

  /** Answer of `POST notebook_versions/{id}/restore` (Python `RestoreNotebookVersionResponse`). */
  export interface IRestoreNotebookVersionResponse {
    /** Jupyter path of the new file. */
    path: string;
    /** The version restored. */
    version_id: number;
  }
}

/** An error answer of the server extension, with its status and message. */
export class MlopsAPIError extends Error {
  /** @param status HTTP status; @param message the server's message. */
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'MlopsAPIError';
  }
}

function buildUrl(endpoint: string, query?: Record<string, unknown>): string {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endpoint);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    params.append(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = params.toString();
  return text ? `${url}?${text}` : url;
}

async function request(
  endpoint: string,
  init: RequestInit = {},
  query?: Record<string, unknown>
): Promise<Response> {
  const settings = ServerConnection.makeSettings();
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      buildUrl(endpoint, query),
      init,
      settings
    );
  } catch (error) {
    throw new MlopsAPIError(0, `Cannot reach the Jupyter server: ${error}`);
  }
  if (!response.ok) {
    let message = response.statusText;
    try {
      const error = (await response.json()) as MlopsAPI.IErrorResponse;
      message = error.message ?? message;
    } catch {
      // Not JSON (a proxy error page): keep the status text.
    }
    throw new MlopsAPIError(response.status, message);
  }
  return response;
}

async function requestJSON<T>(
  endpoint: string,
  init: RequestInit = {},
  query?: Record<string, unknown>
): Promise<T> {
  return (await (await request(endpoint, init, query)).json()) as T;
}

function enc(segment: string): string {
  return segment.split('/').map(encodeURIComponent).join('/');
}

/** `GET status`. */
export function getStatus(): Promise<MlopsAPI.IDescribeStatusResponse> {
  return requestJSON('status');
}

/** `GET experiments`. */
export async function listExperiments(): Promise<MlopsAPI.IExperiment[]> {
  return (await requestJSON<MlopsAPI.IListExperimentsResponse>('experiments'))
    .experiments;
}

/** `GET runs`: one page of runs. */
export function listRuns(
  query: MlopsAPI.IListRunsQuery
): Promise<MlopsAPI.IListRunsResponse> {
  return requestJSON('runs', {}, { ...query });
}

/** `GET runs/{id}`. */
export function getRun(runId: string): Promise<MlopsAPI.IDescribeRunResponse> {
  return requestJSON(`runs/${encodeURIComponent(runId)}`);
}

/** `GET runs/{id}/metrics/{key}`. */
export function getMetric(
  runId: string,
  key: string,
  maxPoints?: number
): Promise<MlopsAPI.IDescribeMetricResponse> {
  return requestJSON(
    `runs/${encodeURIComponent(runId)}/metrics/${enc(key)}`,
    {},
    { max_points: maxPoints } satisfies MlopsAPI.IDescribeMetricQuery
  );
}

/** `GET runs/{id}/artifacts/{path}`: the artifact's bytes. */
export async function getArtifactBlob(
  runId: string,
  path: string
): Promise<Blob> {
  return (
    await request(`runs/${encodeURIComponent(runId)}/artifacts/${enc(path)}`)
  ).blob();
}

/** `GET notebook_versions?path=`: a notebook's history. */
export async function listNotebookVersions(
  path: string
): Promise<MlopsAPI.INotebookVersion[]> {
  const data = await requestJSON<MlopsAPI.IListNotebookVersionsResponse>(
    'notebook_versions',
    {},
    { path } satisfies MlopsAPI.IListNotebookVersionsQuery
  );
  return data.versions;
}

/** `GET notebook_diffs`: `a`/`b` are version ids or 'current' (needs `path`). */
export function diffNotebooks(
  a: number | 'current',
  b: number | 'current',
  path?: string
): Promise<MlopsAPI.IDiffNotebooksResponse> {
  const query: MlopsAPI.IDiffNotebooksQuery = {
    a: String(a),
    b: String(b),
    path
  };
  return requestJSON('notebook_diffs', {}, { ...query });
}

/** `POST notebook_versions/{id}/restore`: a new file next to the notebook. */
export function restoreNotebookVersion(
  versionId: number,
  nextTo?: string
): Promise<MlopsAPI.IRestoreNotebookVersionResponse> {
  const body: MlopsAPI.IRestoreNotebookVersionRequest = nextTo
    ? { next_to: nextTo }
    : {};
  return requestJSON(`notebook_versions/${versionId}/restore`, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}
