/**
 * The only module of the extension that talks HTTP. One typed function per endpoint of the
 * server extension (documented in kernel_magics/server/openapi.yaml); the interfaces mirror the
 * Python models in kernel_magics/server/models.py one for one.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** The REST namespace; `API_NAMESPACE` in kernel_magics/server/app.py says the same. */
export const API_NAMESPACE = 'mlops/api';

/** Types of the REST API, named after the Python models. */
export namespace MlopsAPI {
  /** Run statuses. */
  export type RunStatus =
    'running' | 'finished' | 'failed' | 'crashed' | 'killed';

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

  /** One row of the runs table. */
  export interface IRunSummary {
    /** 32 hex characters. */
    id: string;
    /** Optional run name. */
    name: string | null;
    /** Experiment name. */
    experiment: string;
    /** Lifecycle status. */
    status: RunStatus;
    /** cell, papermill, schedule, sweep or api. */
    source: string;
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
    media_type: string;
    /** BLAKE3 digest. */
    blob_hash: string;
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

  /** Answer of `GET runs/{id}` (Python `DescribeRun`). */
  export interface IDescribeRun extends IRunSummary {
    /** Artifacts by path. */
    artifacts: IArtifact[];
    /** Datasets read or written. */
    datasets: Array<Record<string, unknown>>;
    /** Metric names. */
    metric_keys: string[];
    /** Warnings such as cells run out of order. */
    warnings: string[];
    /** Traceback of a failed run. */
    error: string | null;
    /** Python, platform, packages, git. */
    environment: Record<string, unknown> | null;
    /** The notebook version used. */
    notebook_version: INotebookVersion | null;
    /** The notebook's path relative to the Jupyter root. */
    jupyter_path: string | null;
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

  /** Answer of `GET runs/{id}/metrics/{key}`. */
  export interface IMetricSeries {
    /** Run id. */
    run_id: string;
    /** Metric name. */
    key: string;
    /** Thinning limit applied. */
    max_points: number;
    /** Points in step order. */
    points: IMetricPoint[];
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
    status: 'added' | 'removed' | 'changed' | 'unchanged';
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

  /** Answer of `GET notebook_diffs`. */
  export interface INotebookDiff {
    /** Older side: a version id or 'current'. */
    a: string;
    /** Newer side: a version id or 'current'. */
    b: string;
    /** Aligned cells. */
    cells: ICellDiff[];
    /** Counts by status. */
    summary: Record<ICellDiff['status'], number>;
  }

  /** Answer of `POST notebook_versions/{id}/restore`. */
  export interface IRestoreResult {
    /** Jupyter path of the new file. */
    path: string;
    /** The version restored. */
    version_id: number;
  }

  /** Answer of `GET status`. */
  export interface IStatus {
    /** Extension version. */
    version: string;
    /** Database URL, password hidden. */
    store_uri: string;
    /** Artifact root. */
    artifacts_uri: string;
    /** Why this store was chosen. */
    reason: string;
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
      message = (await response.json()).message ?? message;
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
export function getStatus(): Promise<MlopsAPI.IStatus> {
  return requestJSON('status');
}

/** `GET experiments`. */
export async function listExperiments(): Promise<MlopsAPI.IExperiment[]> {
  return (
    await requestJSON<{ experiments: MlopsAPI.IExperiment[] }>('experiments')
  ).experiments;
}

/** `GET runs`: one page of runs. */
export function listRuns(
  query: MlopsAPI.IListRunsQuery
): Promise<MlopsAPI.IListRunsResponse> {
  return requestJSON('runs', {}, { ...query });
}

/** `GET runs/{id}`. */
export function getRun(runId: string): Promise<MlopsAPI.IDescribeRun> {
  return requestJSON(`runs/${encodeURIComponent(runId)}`);
}

/** `GET runs/{id}/metrics/{key}`. */
export function getMetric(
  runId: string,
  key: string,
  maxPoints?: number
): Promise<MlopsAPI.IMetricSeries> {
  return requestJSON(
    `runs/${encodeURIComponent(runId)}/metrics/${enc(key)}`,
    {},
    { max_points: maxPoints }
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
  const data = await requestJSON<{ versions: MlopsAPI.INotebookVersion[] }>(
    'notebook_versions',
    {},
    { path }
  );
  return data.versions;
}

/** `GET notebook_diffs`: `a`/`b` are version ids or 'current' (needs `path`). */
export function diffNotebooks(
  a: number | 'current',
  b: number | 'current',
  path?: string
): Promise<MlopsAPI.INotebookDiff> {
  return requestJSON('notebook_diffs', {}, { a, b, path });
}

/** `POST notebook_versions/{id}/restore`: a new file next to the notebook. */
export function restoreNotebookVersion(
  versionId: number,
  nextTo?: string
): Promise<MlopsAPI.IRestoreResult> {
  return requestJSON(`notebook_versions/${versionId}/restore`, {
    method: 'POST',
    body: JSON.stringify(nextTo ? { next_to: nextTo } : {})
  });
}
