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
  export type RunSource =
    'api' | 'cell' | 'papermill' | 'schedule' | 'sweep' | 'automation';

  /** What happened to a cell between two notebooks. */
  export type CellStatus =
    'added' | 'removed' | 'changed' | 'moved' | 'unchanged';

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
    /** Only this run's child runs: a sweep's trials, an automation's steps. */
    parent?: string;
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
    /**
     * The output's text MIME bundle for the panel to render untrusted (text/html,
     * text/markdown, text/latex, text/plain; a stream as application/vnd.jupyter.stdout or
     * stderr, an error's traceback as stderr); images travel in the output change's image
     * fields; empty when the cell's outputs did not change or the diff's budget was spent.
     */
    data: Record<string, string>;
    /** What data leaves out and why, in words. */
    data_note: string | null;
  }

  /** One output of a cell added, removed or changed between the two notebooks. */
  export interface IOutputChange {
    /** What happened to it. */
    op: 'added' | 'removed' | 'changed';
    /** Index among the older cell's outputs. */
    a_index: number | null;
    /** Index among the newer cell's outputs. */
    b_index: number | null;
    /** stream, execute_result, display_data or error. */
    output_type: string;
    /** What changed: MIME types, text, evalue...; for an added or removed output its rich MIME types. */
    parts: string[];
    /** Its images in the older notebook. */
    images_a: IOutputImage[];
    /** Its images in the newer notebook. */
    images_b: IOutputImage[];
  }

  /** An image of an output, for the panel to draw (it builds the data: URL itself). */
  export interface IOutputImage {
    /** The image's MIME type. */
    mime: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/svg+xml';
    /** base64 (PNG, JPEG, GIF) or text (the SVG source). */
    encoding: 'base64' | 'text';
    /** The image as nbformat stores it; null when too large or not decodable. */
    data: string | null;
    /** Bytes of the image. */
    size: number;
    /** Why data is null, in words. */
    note: string | null;
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
    /** Outputs added, removed or changed. */
    output_changes: IOutputChange[];
  }

  /** How many cells a diff counts by status. */
  export interface IDiffSummary {
    /** Cells only in the newer notebook. */
    added: number;
    /** Cells only in the older notebook. */
    removed: number;
    /** Cells whose source or outputs differ. */
    changed: number;
    /** Cells at another place (nbdime's removed + added of one cell). */
    moved: number;
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

  // -- deployments and schedules (issue 11, server part A2) --------------------------------

  /** Deployment statuses (core/store/deployments.py, with the ones shared with runs). */
  export type DeploymentStatus =
    'starting' | 'running' | 'stopping' | 'stopped' | 'failed' | 'crashed';

  /** What happens to fire times missed while no scheduler ran. */
  export type CatchupPolicy = 'latest' | 'all' | 'none';

  /** Types a notebook parameter can have (core/runner/parameters.py TYPES). */
  export type ParameterType =
    'int' | 'float' | 'bool' | 'str' | 'list' | 'dict' | 'any';

  /** Query of `GET deployments` (Python `ListDeploymentsQuery`). */
  export interface IListDeploymentsQuery {
    /** Only this model's deployments. */
    model?: string;
    /** Only starting, running or stopping deployments. */
    live?: boolean;
    /** Page size (at most 500). */
    limit?: number;
    /** First row. */
    offset?: number;
  }

  /** What the server extension saw of a model server just now. */
  export interface IDeploymentHealth {
    /** The server process exists (null: it runs on another machine). */
    process_alive: boolean | null;
    /** GET /health answered for this deployment. */
    answered: boolean;
    /** ok, or draining while it shuts down. */
    health_status: string | null;
    /** The model version /health reports. */
    serving_version: number | null;
    /** Seconds the server has been up. */
    uptime_s: number | null;
  }

  /** One model server with its live health (Python `Deployment`). */
  export interface IDeployment {
    /** Deployment id. */
    id: number;
    /** Model name. */
    model: string;
    /** Model version it was started with. */
    version: number;
    /** Alias it follows (null for a pinned version). */
    alias: string | null;
    /** What it serves, e.g. churn@production (v3). */
    ref: string;
    /** Lifecycle status; a dead server shows crashed. */
    status: DeploymentStatus;
    /** Interface it binds. */
    host: string;
    /** TCP port. */
    port: number;
    /** Base URL clients use. */
    url: string;
    /** Server process id. */
    pid: number | null;
    /** Machine it runs on. */
    hostname: string | null;
    /** UTC epoch seconds. */
    created_at: number;
    /** UTC epoch seconds of the last state change. */
    updated_at: number;
    /** Live health (only live deployments are asked). */
    health: IDeploymentHealth;
  }

  /** Answer of `GET deployments` (Python `ListDeploymentsResponse`). */
  export interface IListDeploymentsResponse {
    /** The page, newest first. */
    deployments: IDeployment[];
    /** Deployments that matched in all. */
    total: number;
    /** Page size used. */
    limit: number;
    /** First row. */
    offset: number;
  }

  /** One state change of a deployment. */
  export interface IDeploymentEvent {
    /** created, options, started, stopping, stopped, failed... */
    event: string;
    /** Why, or what changed. */
    detail: string | null;
    /** UTC epoch seconds. */
    at: number;
  }

  /** Answer of `GET deployments/{id}` (Python `DescribeDeploymentResponse`). */
  export interface IDescribeDeploymentResponse extends IDeployment {
    /** State changes, oldest first. */
    events: IDeploymentEvent[];
  }

  /** Query of `GET deployments/{id}/traffic`. */
  export interface IDeploymentTrafficQuery {
    /** Minutes up to now (1-1440). */
    minutes?: number;
  }

  /** Requests in one minute. */
  export interface ITrafficMinute {
    /** Start of the minute (UTC epoch seconds). */
    start: number;
    /** Requests answered in the minute. */
    requests: number;
    /** Requests answered with an error. */
    errors: number;
    /** Median latency in ms (null without requests). */
    p50_ms: number | null;
    /** 99th percentile latency in ms (null without requests). */
    p99_ms: number | null;
    /** monitoring: exact (its bucket closed); prediction_log: from the sampled log. */
    source: 'monitoring' | 'prediction_log';
  }

  /** Answer of `GET deployments/{id}/traffic`. */
  export interface IDescribeDeploymentTrafficResponse {
    /** Deployment id. */
    deployment_id: number;
    /** monitoring when the server wrote buckets in the window, else prediction_log. */
    source: 'monitoring' | 'prediction_log';
    /** Fraction of successful requests the source records (1: all). */
    sample_rate: number;
    /** Oldest first, one per minute. */
    minutes: ITrafficMinute[];
  }

  /** Query of `GET deployments/{id}/monitoring` (Python `DeploymentMonitoringQuery`). */
  export interface IDeploymentMonitoringQuery {
    /** How far back from now: 30m, 24h, 7d. */
    since?: string;
    /** Window length: 5m, 1h, 1d. */
    window?: string;
  }

  /** One window's values by the names alert rules use (`METRICS`). */
  export interface IMonitoringWindow {
    /** Window start (UTC epoch seconds). */
    start: number;
    /** Window end (the last one may be open). */
    end: number;
    /** Rows scored in the window. */
    rows: number;
    /** Whether rows reach the model's min_rows. */
    enough_data: boolean;
    /** requests, errors.rate, latency.p50_ms, ...; a name is absent when unknown. */
    values: Record<string, number>;
  }

  /** The drift verdict of one feature (or of the prediction) in one window. */
  export interface IFeatureDriftVerdict {
    /** Feature name (prediction for the model's output). */
    feature: string;
    /** How the feature is binned. */
    kind: 'numeric' | 'categorical';
    /** The test or statistic: psi, ks, chisquare, ... */
    method: string;
    /** The statistic; null with not enough data. */
    score: number | null;
    /** Drift at or above this (below it for p-values). */
    threshold: number;
    /** null when there was not enough data. */
    drifted: boolean | null;
    /** The verdict in words. */
    status: 'drift' | 'ok' | 'not enough data';
    /** Live values the verdict is based on. */
    rows: number;
    /** Bin labels of a drifted feature (null otherwise). */
    bins?: string[] | null;
    /** Share of training rows per bin. */
    training_shares?: number[] | null;
    /** Share of the window's rows per bin. */
    live_shares?: number[] | null;
  }

  /** The drift of the latest window with enough data. */
  export interface IMonitoringDrift {
    /** Start of the window the verdicts are from. */
    start: number;
    /** End of that window. */
    end: number;
    /** Rows scored in it. */
    rows: number;
    /** Share of drifted features (of those judged). */
    share: number | null;
    /** The dataset drifts when share reaches this. */
    drift_share: number;
    /** Whether the dataset drifted (null: not judged). */
    drifted: boolean | null;
    /** One verdict per feature, in order. */
    features: IFeatureDriftVerdict[];
    /** The prediction's verdict. */
    prediction: IFeatureDriftVerdict | null;
  }

  /** An alert incident that is still open. */
  export interface IMonitoringIncident {
    /** Incident id. */
    id: number;
    /** When it opened (UTC epoch seconds). */
    opened_at: number;
    /** The latest evaluation at which it still held. */
    last_seen_at: number;
    /** Start of the window that opened it. */
    window_start: number;
    /** End of that window. */
    window_end: number;
    /** The conditions that held, with their values. */
    broken: Record<string, number>;
    /** When it was notified (null: not yet / no one). */
    notified_at: number | null;
  }

  /** An alert rule on the deployment's model (read-only here). */
  export interface IMonitoringAlertRule {
    /** Rule name. */
    name: string;
    /** The monitored model reference. */
    model_ref: string;
    /** Conditions; the rule fires when any holds. */
    conditions: string[];
    /** Seconds of data each evaluation looks at. */
    window_s: number;
    /** Paused rules are not evaluated. */
    paused: boolean;
    /** The latest minute it was evaluated for. */
    evaluated_at: number | null;
    /** Its open incident, if any. */
    incident: IMonitoringIncident | null;
  }

  /** Answer of `GET deployments/{id}/monitoring`. */
  export interface IDescribeDeploymentMonitoringResponse {
    /** Deployment id. */
    deployment_id: number;
    /** The model version monitored (churn/3). */
    model: string;
    /** Its version. */
    version: number;
    /** Period start (UTC epoch seconds). */
    since: number;
    /** Period end (now). */
    until: number;
    /** Window length in seconds. */
    window_s: number;
    /** False: the version has no training profile, no drift. */
    has_profile: boolean;
    /** Rows a window needs for drift verdicts. */
    min_rows: number;
    /** Oldest first. */
    windows: IMonitoringWindow[];
    /** Drift of the latest window with enough data (null: none has enough). */
    drift: IMonitoringDrift | null;
    /** Alert rules on the deployment's model. */
    alerts: IMonitoringAlertRule[];
  }

  /** Query of `GET deployments/{id}/log`. */
  export interface IDeploymentLogQuery {
    /** Last lines to return (1-10000). */
    lines?: number;
  }

  /** Answer of `GET deployments/{id}/log`. */
  export interface IDescribeDeploymentLogResponse {
    /** Deployment id. */
    deployment_id: number;
    /** The last lines, oldest first. */
    lines: string[];
  }

  /** Body of `POST deployments` (Python `CreateDeploymentRequest`). */
  export interface ICreateDeploymentRequest {
    /** churn@production, churn/3 or churn. */
    ref: string;
    /** TCP port; the first free one from 5005 up if omitted. */
    port?: number;
    /** Allow a version stored with pickle. */
    allow_pickle?: boolean;
    /** Fraction of successful requests kept in the prediction log. */
    sample_rate?: number;
    /** Drop unknown columns, convert numbers sent as strings. */
    lenient?: boolean;
  }

  /** Answer (202) of `POST deployments`. */
  export interface ICreateDeploymentResponse {
    /** Poll `getDeployment(id)` for its health. */
    deployment_id: number;
    /** Model name. */
    model: string;
    /** Model version being served. */
    version: number;
    /** starting, or running when it was already up. */
    status: DeploymentStatus;
  }

  /** Answer of `POST deployments/{id}/stop`. */
  export interface IStopDeploymentResponse {
    /** The deployment after it stopped. */
    deployment: IDeployment;
  }

  /** Body of `POST deployments/{id}/rollback`. */
  export interface IRollbackDeploymentRequest {
    /** This version instead of the alias's previous one. */
    to_version?: number;
  }

  /** Answer (202) of `POST deployments/{id}/rollback`. */
  export interface IRollbackDeploymentResponse {
    /** The deployment being replaced. */
    deployment_id: number;
    /** Model name. */
    model: string;
    /** The alias moved back. */
    alias: string;
    /** Version the alias pointed at. */
    from_version: number;
    /** Version it points at now. */
    to_version: number;
  }

  /** Query of `GET schedules`. */
  export interface IListSchedulesQuery {
    /** Page size (at most 500). */
    limit?: number;
    /** First row. */
    offset?: number;
  }

  /** A schedule with its next fire times and latest slot (Python `Schedule`). */
  export interface ISchedule {
    /** Schedule id. */
    id: number;
    /** Unique name. */
    name: string;
    /** Absolute path of the notebook. */
    notebook_path: string;
    /** The notebook relative to the Jupyter root. */
    jupyter_path: string | null;
    /** Cron expression. */
    cron: string;
    /** IANA timezone the cron reads. */
    timezone: string;
    /** Parameters injected into every run. */
    parameters: Record<string, unknown>;
    /** Experiment its runs go to. */
    experiment: string | null;
    /** Seconds a run may take. */
    timeout: number | null;
    /** Extra attempts after a failure. */
    retries: number;
    /** Seconds between attempts. */
    retry_delay: number;
    /** What happens to missed fire times. */
    catchup: CatchupPolicy;
    /** Paused schedules do not fire. */
    paused: boolean;
    /** UTC epoch seconds. */
    created_at: number;
    /** Next three fire times (UTC epoch seconds; none while paused). */
    next_runs: number[];
    /** Fire time of the latest slot. */
    last_slot_time: number | null;
    /** Status of the latest slot. */
    last_status: string | null;
    /** Run of the latest slot. */
    last_run_id: string | null;
  }

  /** Answer of `GET schedules`. */
  export interface IListSchedulesResponse {
    /** The page, by name. */
    schedules: ISchedule[];
    /** Schedules in all. */
    total: number;
    /** Page size used. */
    limit: number;
    /** First row. */
    offset: number;
  }

  /** Body of `POST schedules` (Python `CreateScheduleRequest`). */
  export interface ICreateScheduleRequest {
    /** Jupyter path of the .ipynb. */
    notebook: string;
    /** e.g. `0 3 * * *` or `@daily`. */
    cron: string;
    /** IANA name; the server's when left out. */
    timezone?: string;
    /** Unique; the notebook's stem when left out. */
    name?: string;
    /** Checked against the notebook's parameters cell. */
    parameters?: Record<string, unknown>;
    /** Where its runs go. */
    experiment?: string;
    /** Seconds a run may take. */
    timeout?: number;
    /** Extra attempts after a failure. */
    retries?: number;
    /** Seconds between attempts. */
    retry_delay?: number;
    /** What happens to missed fire times. */
    catchup?: CatchupPolicy;
  }

  /** Query of `GET notebook_parameters`. */
  export interface INotebookParametersQuery {
    /** Jupyter path of the .ipynb. */
    path: string;
  }

  /** One assignment of a notebook's parameters cell. */
  export interface INotebookParameter {
    /** Variable name. */
    name: string;
    /** Type of the default. */
    type: ParameterType;
    /** Default value (null when not a literal). */
    default: unknown;
    /** The right-hand side as written. */
    source: string;
    /** Whether the default is a Python literal. */
    literal: boolean;
  }

  /** Answer of `GET notebook_parameters`. */
  export interface IDescribeNotebookParametersResponse {
    /** The Jupyter path asked for. */
    path: string;
    /** Whether a cell is tagged parameters. */
    has_parameters_cell: boolean;
    /** In the cell's order. */
    parameters: INotebookParameter[];
  }

  /** One attempt of a slot. */
  export interface IScheduleAttempt {
    /** 1 for the first. */
    attempt: number;
    /** running, finished, failed, crashed, killed. */
    status: string;
    /** The attempt's run. */
    run_id: string | null;
    /** Why it failed. */
    error: string | null;
    /** UTC epoch seconds. */
    started_at: number;
    /** UTC epoch seconds, null while running. */
    ended_at: number | null;
  }

  /** One fire time of a schedule and what became of it. */
  export interface IScheduleSlot {
    /** Slot id. */
    id: number;
    /** Fire time (UTC epoch seconds). */
    slot_time: number;
    /** cron, or manual (run now). */
    trigger: string;
    /** pending, running, retrying, finished, failed, missed... */
    status: string;
    /** Attempts made so far. */
    attempt: number;
    /** Run of the latest attempt. */
    run_id: string | null;
    /** Why the slot failed. */
    error: string | null;
    /** The executed notebook, an artifact of run_id (`getArtifactBlob`). */
    output_artifact: string | null;
    /** Oldest first. */
    attempts: IScheduleAttempt[];
  }

  /** Query of `GET schedules/{id}/history`. */
  export interface IScheduleHistoryQuery {
    /** Newest slots to return (1-500). */
    limit?: number;
  }

  /** Answer of `GET schedules/{id}/history`. */
  export interface IDescribeScheduleHistoryResponse {
    /** Schedule id. */
    schedule_id: number;
    /** Schedule name. */
    name: string;
    /** Newest first. */
    slots: IScheduleSlot[];
  }

  /** Answer (202) of `POST schedules/{id}/run`. */
  export interface IRunScheduleNowResponse {
    /** Schedule id. */
    schedule_id: number;
    /** Schedule name. */
    name: string;
    /** UTC epoch seconds; the slot shows in its history. */
    requested_at: number;
  }

  /** Answer of `DELETE schedules/{id}` (its runs stay). */
  export interface IDeleteScheduleResponse {
    /** Schedule id. */
    schedule_id: number;
    /** Schedule name. */
    name: string;
  }
  // -- end of deployments and schedules ------------------------------------------------------

  // -- Models, run edits and run comparisons (issue 11) -------------------------------------

  /** Body of `PATCH runs/{id}` (Python `UpdateRunRequest`). */
  export interface IUpdateRunRequest {
    /** Tags to set or overwrite (not mlops.*). */
    set_tags?: Record<string, string>;
    /** Tag keys to remove (not mlops.*). */
    remove_tags?: string[];
    /** Free-text note on the run ('' removes it). */
    note?: string;
  }

  /** Answer of `DELETE runs/{id}` (Python `DeleteRunResponse`). */
  export interface IDeleteRunResponse {
    /** Full ids of the deleted runs, the run first. */
    deleted: string[];
  }

  /** Query of `GET run_comparisons` (Python `CompareRunsQuery`). */
  export interface ICompareRunsQuery {
    /** Run ids or unique prefixes (2 to 100); the first is the baseline. */
    ids: string[];
    /** Metric names whose series to include for every run (one request for all). */
    curves?: string[];
    /** Thin each curve to this many points. */
    max_points?: number;
  }

  /** One run's series of one metric (Python `ComparedCurve`). */
  export interface IComparedCurve {
    /** Metric name. */
    key: string;
    /** Full run id. */
    run_id: string;
    /** Steps in order, thinned; the last point is kept. */
    steps: number[];
    /** The value at each step (same length as steps). */
    values: number[];
  }

  /** One run of a comparison (Python `ComparedRun`). */
  export interface IComparedRun extends IRunSummary {
    /** Source of the tracked cell (null: the run was not a tracked cell). */
    cell_source: string | null;
    /** The notebook's path relative to the Jupyter root. */
    jupyter_path: string | null;
  }

  /** One param across the compared runs (Python `ComparedValue`). */
  export interface IComparedValue {
    /** Param name. */
    key: string;
    /** Run id -> value; a run without it is absent. */
    values: Record<string, string>;
    /** Not the same in every run (absent counts as different). */
    differs: boolean;
  }

  /** One metric's latest value across the compared runs (Python `ComparedMetric`). */
  export interface IComparedMetric {
    /** Metric name. */
    key: string;
    /** Run id -> latest value; absent if not logged. */
    values: Record<string, number>;
    /** Not the same in every run (absent counts as different). */
    differs: boolean;
  }

  /** Answer of `GET run_comparisons` (Python `CompareRunsResponse`). */
  export interface ICompareRunsResponse {
    /** In the order asked; the first is the baseline. */
    runs: IComparedRun[];
    /** Differing params first, then by name. */
    params: IComparedValue[];
    /** Differing metrics first, then by name. */
    metrics: IComparedMetric[];
    /** Every metric name any run logged. */
    metric_keys: string[];
    /** Metrics every run logged (for overlaid curves). */
    common_metric_keys: string[];
    /** The series asked for with `curves`, by key then run. */
    curves?: IComparedCurve[];
  }

  /** Query of `GET models` (Python `ListModelsQuery`). */
  export interface IListModelsQuery {
    /** Page size. */
    limit?: number;
    /** First row. */
    offset?: number;
  }

  /** A registered model (Python `ModelSummary`). */
  export interface IModelSummary {
    /** Unique model name. */
    name: string;
    /** Free text. */
    description: string | null;
    /** How many versions it has. */
    version_count: number;
    /** Highest version number. */
    latest_version: number | null;
    /** Alias -> version it points at. */
    aliases: Record<string, number>;
    /** The model's own tags (each version has its own too). */
    tags: Record<string, string>;
    /** UTC epoch seconds. */
    created_at: number;
    /** Last change (new version, alias move, description). */
    updated_at: number;
  }

  /** Answer of `GET models` (Python `ListModelsResponse`). */
  export interface IListModelsResponse {
    /** The page, by name. */
    models: IModelSummary[];
    /** Models in all. */
    total: number;
    /** Page size used. */
    limit: number;
    /** First row. */
    offset: number;
  }

  /** Body of `PATCH models/{name}` (Python `UpdateModelRequest`). */
  export interface IUpdateModelRequest {
    /** The model's new description ('' clears it). */
    description?: string;
    /** Model tags to set or overwrite. */
    set_tags?: Record<string, string>;
    /** Model tag keys to remove. */
    remove_tags?: string[];
  }

  /** One input column (or the output) of a signature (Python `SignatureField`). */
  export interface ISignatureField {
    /** Column name; 'input' for a tensor, 'prediction' for outputs. */
    name: string;
    /** double, long, string... or a tensor's dtype and shape. */
    type: string;
  }

  /** What a model takes and returns (Python `ModelSignature`). */
  export interface IModelSignature {
    /** columns (named, typed) or tensor (one dtype). */
    input_type: string;
    /** Input columns in order. */
    inputs: ISignatureField[];
    /** Outputs (empty when not recorded). */
    outputs: ISignatureField[];
  }

  /** One version of a model (Python `ModelVersionSummary`). */
  export interface IModelVersionSummary {
    /** Model name. */
    name: string;
    /** Version number. */
    version: number;
    /** The run that produced it. */
    run_id: string | null;
    /** UTC epoch seconds. */
    created_at: number;
    /** Library, e.g. sklearn. */
    flavor: string;
    /** skops, pickle or cloudpickle. */
    format: string;
    /** Free text. */
    description: string | null;
    /** Version tags. */
    tags: Record<string, string>;
    /** Aliases pointing at this version. */
    aliases: string[];
    /** Inputs and outputs. */
    signature: IModelSignature | null;
    /** Latest metrics of its run. */
    metrics: Record<string, number>;
  }

  /** Query of `GET models/{name}/versions` (Python `ListModelVersionsQuery`). */
  export interface IListModelVersionsQuery {
    /** Page size. */
    limit?: number;
    /** First row. */
    offset?: number;
  }

  /** Answer of `GET models/{name}/versions` (Python `ListModelVersionsResponse`). */
  export interface IListModelVersionsResponse {
    /** Model name. */
    name: string;
    /** The page, newest first. */
    versions: IModelVersionSummary[];
    /** Versions in all. */
    total: number;
    /** Page size used. */
    limit: number;
    /** First row. */
    offset: number;
    /** Metric names present on the page. */
    metric_keys: string[];
  }

  /** Where a version came from (Python `ModelLineage`). */
  export interface IModelLineage {
    /** The run that produced it (null if none or deleted). */
    run: IRunSummary | null;
    /** The notebook version the run used. */
    notebook_version: INotebookVersion | null;
    /** Datasets the run read or wrote. */
    datasets: IDatasetUse[];
    /** Upstream (datasets, notebook, run) and downstream (aliases, deployments). */
    graph: ILineageGraph;
  }

  /** A node kind, in the order data flows (Python `LineageKind`). */
  export type LineageKind =
    'dataset' | 'notebook' | 'run' | 'model' | 'alias' | 'deployment';

  /** One thing in a lineage graph (Python `LineageNode`). */
  export interface ILineageNode {
    /** `kind:key`, unique in the graph (`model:12`, `alias:churn@prod`). */
    id: string;
    /** What it is. */
    kind: LineageKind;
    /** How a user names it: `train@2`, `churn/3`, a run id. */
    ref: string;
    /** One line for its box. */
    label: string;
    /** A quieter second line (status, rows, hash), maybe empty. */
    detail: string;
  }

  /** `source` flows into `target` (Python `LineageEdge`). */
  export interface ILineageEdge {
    /** Node id the data comes from. */
    source: string;
    /** Node id it flows into. */
    target: string;
    /** read, wrote, ran, logged, alias or serves. */
    role: string;
  }

  /** Everything upstream and downstream of one node (Python `LineageGraph`). */
  export interface ILineageGraph {
    /** The node the walk started from. */
    root: string;
    /** Which way it was walked. */
    direction: 'both' | 'up' | 'down';
    /** In kind order, then by ref. */
    nodes: ILineageNode[];
    /** In the direction the data flows. */
    edges: ILineageEdge[];
    /** The walk stopped at its node limit. */
    truncated: boolean;
  }

  /** Answer of `GET models/{name}/versions/{version}` (Python `DescribeModelVersionResponse`). */
  export interface IDescribeModelVersionResponse extends IModelVersionSummary {
    /** BLAKE3 digest of the stored model. */
    blob_hash: string;
    /** Run, notebook version and datasets. */
    lineage: IModelLineage;
  }

  /** Body of `PATCH models/{name}/versions/{version}` (Python `UpdateModelVersionRequest`). */
  export interface IUpdateModelVersionRequest {
    /** New description ('' clears it). */
    description?: string;
    /** Tags to set or overwrite. */
    set_tags?: Record<string, string>;
    /** Tag keys to remove. */
    remove_tags?: string[];
  }

  /** One feature's permutation importance (Python `ImportanceFeature`). */
  export interface IImportanceFeature {
    /** The input column (x0, x1... for a tensor input). */
    name: string;
    /** Mean score drop when the feature is shuffled. */
    mean: number;
    /** Standard deviation of the drop over the shuffles. */
    std: number;
  }

  /** What drives a version's predictions (Python `ModelCardImportance`). */
  export interface IModelCardImportance {
    /** 'input example', a dataset version NAME@V or a file name. */
    holdout: string;
    /** Rows scored. */
    rows?: number | null;
    /** The label column, or the model's predictions. */
    target?: string | null;
    /** accuracy (classifiers) or r2 (regressors). */
    scoring?: string | null;
    /** The score before any shuffle. */
    baseline_score?: number | null;
    /** Why it could not be computed (else null). */
    error?: string | null;
    /** Largest mean drop first. */
    features?: IImportanceFeature[];
  }

  /** Answer of `GET/PATCH models/{name}/versions/{version}/card` (Python `DescribeModelCardResponse`). */
  export interface IDescribeModelCardResponse {
    /** Model name. */
    name: string;
    /** Version number. */
    version: number;
    /** The version's description. */
    description: string | null;
    /** What the model is for. */
    intended_use: string | null;
    /** Known limitations. */
    limitations: string | null;
    /** Null until the card is first rendered. */
    importance: IModelCardImportance | null;
    /** When the card was made (null: not yet). */
    created_at: number | null;
    /** Last edit or computation. */
    updated_at: number | null;
    /** Path of the rendered card (text/html) under /mlops/api. */
    html_path: string;
  }

  /** Body of `PATCH models/{name}/versions/{version}/card` (Python `UpdateModelCardRequest`). */
  export interface IUpdateModelCardRequest {
    /** The version's description ('' clears it). */
    description?: string;
    /** What the model is for ('' clears it). */
    intended_use?: string;
    /** Known limitations ('' clears it). */
    limitations?: string;
  }

  /** One move of an alias (Python `AliasMove`). */
  export interface IAliasMove {
    /** Model name. */
    name: string;
    /** Alias, e.g. production. */
    alias: string;
    /** Version before (null: newly set). */
    from_version: number | null;
    /** Version after (null: deleted). */
    to_version: number | null;
    /** UTC epoch seconds. */
    changed_at: number;
    /** Why: promote conditions, rollback, log_model... */
    reason: string | null;
    /** Who: the OS user, or the Jupyter user (null: before the audit trail). */
    actor?: string | null;
  }

  /** Query of `GET models/{name}/alias_history` (Python `ListAliasHistoryQuery`). */
  export interface IListAliasHistoryQuery {
    /** Only this alias's moves. */
    alias?: string;
  }

  /** Answer of `GET models/{name}/alias_history` (Python `ListAliasHistoryResponse`). */
  export interface IListAliasHistoryResponse {
    /** Model name. */
    name: string;
    /** Newest first. */
    moves: IAliasMove[];
  }

  /** Body of `PUT models/{name}/aliases/{alias}` (Python `SetAliasRequest`). */
  export interface ISetAliasRequest {
    /** Version number. */
    version: number;
    /** Recorded in the alias history. */
    reason?: string;
  }

  /** Body of `POST models/{name}/promote` (Python `PromoteModelRequest`). */
  export interface IPromoteModelRequest {
    /** Candidate version; the latest when absent. */
    version?: number;
    /** The alias to move (default production). */
    alias?: string;
    /** Conditions, e.g. `metrics.accuracy >= 0.9`. */
    require?: string[];
    /** An alias the candidate must beat on `metric`. */
    better_than?: string;
    /** The metric compared for `better_than`. */
    metric?: string;
    /** Higher is better (false for a loss). */
    maximize?: boolean;
    /** Win by at least this much. */
    min_delta?: number;
    /** Evaluate only; move nothing. */
    dry_run?: boolean;
  }

  /** One condition of the promotion gate (Python `GateCheck`). */
  export interface IGateCheck {
    /** The condition as written. */
    condition: string;
    /** The candidate's value (null when missing). */
    candidate: unknown;
    /** The threshold or the other version's value. */
    reference: unknown;
    /** Whether it holds. */
    passed: boolean;
    /** Why, in words. */
    detail: string;
  }

  /** Answer of `POST models/{name}/promote`, 200 or 409 (Python `PromoteModelResponse`). */
  export interface IPromoteModelResponse {
    /** Model name. */
    name: string;
    /** The version evaluated. */
    candidate_version: number;
    /** The alias to move. */
    alias: string;
    /** Every check passed. */
    passed: boolean;
    /** Nothing was moved on purpose. */
    dry_run: boolean;
    /** One row per condition. */
    checks: IGateCheck[];
    /** The alias move made (null: none). */
    move: IAliasMove | null;
  }

  // -- Notes and the audit trail (issue 17) ---------------------------------------------------

  /** What a note is on (core/names.py NOTE_KINDS). */
  export type NoteKind = 'run' | 'model_version' | 'deployment';

  /** What an audit entry is about (core/names.py AUDIT_KINDS). */
  export type AuditKind =
    | 'alias'
    | 'deployment'
    | 'schedule'
    | 'alert'
    | 'automation'
    | 'model'
    | 'note';

  /** Query of `GET notes` (Python `ListNotesQuery`). */
  export interface IListNotesQuery {
    /** run, model_version or deployment. */
    kind: NoteKind;
    /** Run id, model version (churn/7) or deployment id. */
    target: string;
  }

  /** One note, with who wrote it and when (Python `Note`). */
  export interface INote {
    /** Note id. */
    id: number;
    /** What it is on. */
    kind: NoteKind;
    /** Full run id, churn/7 or deployment id. */
    target: string;
    /** Who wrote it (the Jupyter user through the panel). */
    author: string;
    /** UTC epoch seconds. */
    created_at: number;
    /** The note. */
    text: string;
  }

  /** Answer of `GET notes` (Python `ListNotesResponse`). */
  export interface IListNotesResponse {
    /** Oldest first. */
    notes: INote[];
  }

  /** Body of `POST notes` (Python `CreateNoteRequest`). */
  export interface ICreateNoteRequest {
    /** run, model_version or deployment. */
    kind: NoteKind;
    /** Run id, churn/7 or churn@production, deployment id. */
    target: string;
    /** The note. */
    text: string;
  }

  /** Query of `GET audit` (Python `ListAuditQuery`). */
  export interface IListAuditQuery {
    /** Only changes at or after (UTC epoch seconds). */
    since?: number;
    /** Only this kind. */
    kind?: AuditKind;
    /** Only this target and the ones inside it (churn matches churn@production). */
    target?: string;
    /** Page size (at most 1000). */
    limit?: number;
    /** `next_before` of the previous page. */
    before?: number;
  }

  /** One recorded change (Python `AuditEntry`). */
  export interface IAuditEntry {
    /** Entry id (newer is larger). */
    id: number;
    /** UTC epoch seconds. */
    at: number;
    /** Who: the Jupyter user through the server, else the OS user. */
    actor: string;
    /** What kind of thing changed. */
    kind: AuditKind;
    /** What changed: churn@production, deployment 3, a schedule name. */
    target: string;
    /** set, move, delete, create, stop, rollback, pause, resume... */
    action: string;
    /** Facts about the change. */
    detail: Record<string, unknown> | null;
  }

  /** Answer of `GET audit` (Python `ListAuditResponse`). */
  export interface IListAuditResponse {
    /** Newest first. */
    entries: IAuditEntry[];
    /** Pass as `before` for the next page; null at the end. */
    next_before: number | null;
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
  query?: Record<string, unknown>,
  accept: number[] = []
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
  // `accept`: error statuses whose body is an answer (a failed promotion gate's 409).
  if (!response.ok && !accept.includes(response.status)) {
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

// -- deployments and schedules (issue 11, server part A2) ----------------------------------

/** `GET deployments`: one page, newest first, each with its live health. */
export function listDeployments(
  query: MlopsAPI.IListDeploymentsQuery = {}
): Promise<MlopsAPI.IListDeploymentsResponse> {
  return requestJSON('deployments', {}, { ...query });
}

/** `GET deployments/{id}`: one deployment with its events and live health. */
export function getDeployment(
  id: number
): Promise<MlopsAPI.IDescribeDeploymentResponse> {
  return requestJSON(`deployments/${id}`);
}

/** `GET deployments/{id}/traffic`: per-minute requests, errors, p50/p99 latency. */
export function getDeploymentTraffic(
  id: number,
  minutes = 15
): Promise<MlopsAPI.IDescribeDeploymentTrafficResponse> {
  return requestJSON(`deployments/${id}/traffic`, {}, {
    minutes
  } satisfies MlopsAPI.IDeploymentTrafficQuery);
}

/** `GET deployments/{id}/monitoring`: windows, latest drift per feature, alert rules. */
export function getDeploymentMonitoring(
  id: number,
  query: MlopsAPI.IDeploymentMonitoringQuery = {}
): Promise<MlopsAPI.IDescribeDeploymentMonitoringResponse> {
  return requestJSON(`deployments/${id}/monitoring`, {}, { ...query });
}

/** `GET deployments/{id}/log`: the last lines of the server's log. */
export function getDeploymentLog(
  id: number,
  lines = 200
): Promise<MlopsAPI.IDescribeDeploymentLogResponse> {
  return requestJSON(`deployments/${id}/log`, {}, {
    lines
  } satisfies MlopsAPI.IDeploymentLogQuery);
}

/** `POST deployments` (202 at once): poll `getDeployment` until its health answers. */
export function deployModel(
  body: MlopsAPI.ICreateDeploymentRequest
): Promise<MlopsAPI.ICreateDeploymentResponse> {
  return requestJSON('deployments', {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** `POST deployments/{id}/stop`: resolves once the server has stopped. */
export function stopDeployment(
  id: number
): Promise<MlopsAPI.IStopDeploymentResponse> {
  return requestJSON(`deployments/${id}/stop`, { method: 'POST', body: '{}' });
}

/** `POST deployments/{id}/rollback` (202 at once): the alias moves back, servers follow. */
export function rollbackDeployment(
  id: number,
  body: MlopsAPI.IRollbackDeploymentRequest = {}
): Promise<MlopsAPI.IRollbackDeploymentResponse> {
  return requestJSON(`deployments/${id}/rollback`, {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** `GET schedules`: one page by name, with next fire times and last status. */
export function listSchedules(
  query: MlopsAPI.IListSchedulesQuery = {}
): Promise<MlopsAPI.IListSchedulesResponse> {
  return requestJSON('schedules', {}, { ...query });
}

/** `POST schedules` (201): parameters are checked against the notebook's parameters cell. */
export function createSchedule(
  body: MlopsAPI.ICreateScheduleRequest
): Promise<MlopsAPI.ISchedule> {
  return requestJSON('schedules', {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** `GET notebook_parameters?path=`: the parameters cell, for the schedule form. */
export function getNotebookParameters(
  path: string
): Promise<MlopsAPI.IDescribeNotebookParametersResponse> {
  return requestJSON('notebook_parameters', {}, {
    path
  } satisfies MlopsAPI.INotebookParametersQuery);
}

/** `POST schedules/{id}/pause`. */
export function pauseSchedule(id: number): Promise<MlopsAPI.ISchedule> {
  return requestJSON(`schedules/${id}/pause`, { method: 'POST', body: '{}' });
}

/** `POST schedules/{id}/resume`: fire times while paused are skipped. */
export function resumeSchedule(id: number): Promise<MlopsAPI.ISchedule> {
  return requestJSON(`schedules/${id}/resume`, { method: 'POST', body: '{}' });
}

/** `POST schedules/{id}/run` (202 at once): a manual slot; watch its history. */
export function runScheduleNow(
  id: number
): Promise<MlopsAPI.IRunScheduleNowResponse> {
  return requestJSON(`schedules/${id}/run`, { method: 'POST', body: '{}' });
}

/** `DELETE schedules/{id}`: the schedule and its slot history (runs stay). */
export function deleteSchedule(
  id: number
): Promise<MlopsAPI.IDeleteScheduleResponse> {
  return requestJSON(`schedules/${id}`, { method: 'DELETE' });
}

/** `GET schedules/{id}/history`: newest slots first, with their attempts and runs. */
export function getScheduleHistory(
  id: number,
  limit = 50
): Promise<MlopsAPI.IDescribeScheduleHistoryResponse> {
  return requestJSON(`schedules/${id}/history`, {}, {
    limit
  } satisfies MlopsAPI.IScheduleHistoryQuery);
}

// -- Models, run edits and run comparisons (issue 11) ---------------------------------------

function jsonBody(method: string, body: unknown): RequestInit {
  return { method, body: JSON.stringify(body) };
}

function modelPath(name: string, ...rest: (string | number)[]): string {
  return ['models', name, ...rest.map(String)]
    .map(encodeURIComponent)
    .join('/');
}

/** `PATCH runs/{id}`: set or remove tags, set or clear the note; answers the run's row. */
export function updateRun(
  runId: string,
  body: MlopsAPI.IUpdateRunRequest
): Promise<MlopsAPI.IRunSummary> {
  return requestJSON(
    `runs/${encodeURIComponent(runId)}`,
    jsonBody('PATCH', body)
  );
}

/** `DELETE runs/{id}`: the run and its child runs (409 while one is running). */
export function deleteRun(runId: string): Promise<MlopsAPI.IDeleteRunResponse> {
  return requestJSON(`runs/${encodeURIComponent(runId)}`, { method: 'DELETE' });
}

/**
 * `GET run_comparisons?ids=`: runs side by side (the first is the baseline). `curves` adds
 * those metrics' series for every run to the answer (one request instead of one per run and
 * metric), thinned to `maxPoints`.
 */
export function compareRuns(
  ids: string[],
  curves?: string[],
  maxPoints?: number
): Promise<MlopsAPI.ICompareRunsResponse> {
  const query: MlopsAPI.ICompareRunsQuery = {
    ids,
    curves,
    max_points: maxPoints
  };
  return requestJSON('run_comparisons', {}, { ...query });
}

/** `GET models`: one page of registered models, by name. */
export function listModels(
  query: MlopsAPI.IListModelsQuery = {}
): Promise<MlopsAPI.IListModelsResponse> {
  return requestJSON('models', {}, { ...query });
}

/** `GET models/{name}`. */
export function getModel(name: string): Promise<MlopsAPI.IModelSummary> {
  return requestJSON(modelPath(name));
}

/** `PATCH models/{name}`: the model's description. */
export function updateModel(
  name: string,
  body: MlopsAPI.IUpdateModelRequest
): Promise<MlopsAPI.IModelSummary> {
  return requestJSON(modelPath(name), jsonBody('PATCH', body));
}

/** `GET models/{name}/versions`: one page of versions, newest first. */
export function listModelVersions(
  name: string,
  query: MlopsAPI.IListModelVersionsQuery = {}
): Promise<MlopsAPI.IListModelVersionsResponse> {
  return requestJSON(modelPath(name, 'versions'), {}, { ...query });
}

/** `GET models/{name}/versions/{version}`: a version with its lineage. */
export function getModelVersion(
  name: string,
  version: number
): Promise<MlopsAPI.IDescribeModelVersionResponse> {
  return requestJSON(modelPath(name, 'versions', version));
}

/** `PATCH models/{name}/versions/{version}`: description and tags. */
export function updateModelVersion(
  name: string,
  version: number,
  body: MlopsAPI.IUpdateModelVersionRequest
): Promise<MlopsAPI.IModelVersionSummary> {
  return requestJSON(
    modelPath(name, 'versions', version),
    jsonBody('PATCH', body)
  );
}

/** `GET models/{name}/versions/{version}/card`: the card's fields and importance. */
export function getModelCard(
  name: string,
  version: number
): Promise<MlopsAPI.IDescribeModelCardResponse> {
  return requestJSON(modelPath(name, 'versions', version, 'card'));
}

/** `PATCH models/{name}/versions/{version}/card`: change the card's text fields. */
export function updateModelCard(
  name: string,
  version: number,
  body: MlopsAPI.IUpdateModelCardRequest
): Promise<MlopsAPI.IDescribeModelCardResponse> {
  return requestJSON(
    modelPath(name, 'versions', version, 'card'),
    jsonBody('PATCH', body)
  );
}

/** The URL of the rendered card (`GET .../card/html`), for a link that opens it in a tab. */
export function modelCardUrl(
  card: MlopsAPI.IDescribeModelCardResponse
): string {
  return buildUrl(card.html_path);
}

/** `GET models/{name}/alias_history`: alias moves, newest first. */
export async function listAliasHistory(
  name: string,
  alias?: string
): Promise<MlopsAPI.IAliasMove[]> {
  const query: MlopsAPI.IListAliasHistoryQuery = { alias };
  const data = await requestJSON<MlopsAPI.IListAliasHistoryResponse>(
    modelPath(name, 'alias_history'),
    {},
    { ...query }
  );
  return data.moves;
}

/** `PUT models/{name}/aliases/{alias}`: set or move an alias. */
export function setAlias(
  name: string,
  alias: string,
  body: MlopsAPI.ISetAliasRequest
): Promise<MlopsAPI.IAliasMove> {
  return requestJSON(modelPath(name, 'aliases', alias), jsonBody('PUT', body));
}

/** `DELETE models/{name}/aliases/{alias}`. */
export function deleteAlias(
  name: string,
  alias: string
): Promise<MlopsAPI.IAliasMove> {
  return requestJSON(modelPath(name, 'aliases', alias), { method: 'DELETE' });
}

/**
 * `POST models/{name}/promote`: run the gate. A failed gate (409) resolves with
 * `passed: false` and its checks instead of throwing; other errors throw.
 */
export async function promoteModel(
  name: string,
  body: MlopsAPI.IPromoteModelRequest
): Promise<MlopsAPI.IPromoteModelResponse> {
  const response = await request(
    modelPath(name, 'promote'),
    jsonBody('POST', body),
    undefined,
    [409]
  );
  const data = await response.json();
  if (!response.ok && !Array.isArray(data?.checks)) {
    // A 409 that is not a gate table (the store refused the move): an error.
    throw new MlopsAPIError(
      response.status,
      data?.message ?? response.statusText
    );
  }
  return data as MlopsAPI.IPromoteModelResponse;
}

// -- Notes and the audit trail (issue 17) ---------------------------------------------------

/** `GET notes?kind=&target=`: the item's notes, oldest first. */
export async function listNotes(
  query: MlopsAPI.IListNotesQuery
): Promise<MlopsAPI.INote[]> {
  const answer = await requestJSON<MlopsAPI.IListNotesResponse>(
    'notes',
    {},
    { ...query }
  );
  return answer.notes;
}

/** `POST notes` (201): written by the signed-in Jupyter user. */
export function createNote(
  body: MlopsAPI.ICreateNoteRequest
): Promise<MlopsAPI.INote> {
  return requestJSON('notes', jsonBody('POST', body));
}

/** `GET audit`: recorded changes, newest first (page with `before`). */
export function listAudit(
  query: MlopsAPI.IListAuditQuery = {}
): Promise<MlopsAPI.IListAuditResponse> {
  return requestJSON('audit', {}, { ...query });
}
