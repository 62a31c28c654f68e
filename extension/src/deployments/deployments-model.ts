/**
 * State of the Deployments view: the model servers with their live health, the open one's
 * traffic and log tail, and the progress of a deploy or rollback until its health check passes
 * or fails. Talks to the server only through src/api.ts (the jest tests mock it).
 */
import {
  MlopsAPI,
  deployModel,
  getDeployment,
  getDeploymentLog,
  getDeploymentTraffic,
  listDeployments,
  rollbackDeployment,
  stopDeployment
} from '../api';

/** What the status dot shows. */
export type HealthState =
  'healthy' | 'starting' | 'unhealthy' | 'failed' | 'crashed' | 'stopped';

/** A deploy or rollback being watched. */
export interface IProgress {
  /** deploy or rollback. */
  kind: 'deploy' | 'rollback';
  /** What is being served, e.g. churn@production. */
  ref: string;
  /** The version expected to answer /health. */
  version: number;
  /** waiting for the health check, done, or failed. */
  phase: 'waiting' | 'done' | 'failed';
  /** What the user reads. */
  message: string;
  /** The deployment that answered (or failed). */
  deploymentId: number | null;
}

/** Everything the Deployments view renders. */
export interface IDeploymentsState {
  /** Deployments, newest first. */
  deployments: MlopsAPI.IDeployment[];
  /** Whether stopped ones are listed too. */
  showAll: boolean;
  /** The open deployment (null: the list shows). */
  open: number | null;
  /** The open deployment with its events. */
  detail: MlopsAPI.IDescribeDeploymentResponse | null;
  /** The open deployment's recent traffic. */
  traffic: MlopsAPI.IDescribeDeploymentTrafficResponse | null;
  /** The open deployment's log tail. */
  log: string[];
  /** The deploy or rollback being watched. */
  progress: IProgress | null;
  /** The last error message, if the last load failed. */
  error: string | null;
}

/** The status dot of a deployment, from its stored status and its live health. */
export function healthState(dep: MlopsAPI.IDeployment): HealthState {
  switch (dep.status) {
    case 'failed':
    case 'crashed':
    case 'stopped':
      return dep.status;
    case 'stopping':
      return 'stopped';
    case 'starting':
      return 'starting';
    default:
      if (dep.health.answered) {
        return 'healthy';
      }
      return dep.health.process_alive === false ? 'crashed' : 'unhealthy';
  }
}

/** Whether the deployment is up (starting, running or stopping). */
export function isLive(dep: MlopsAPI.IDeployment): boolean {
  return ['starting', 'running', 'stopping'].includes(dep.status);
}

/** Seconds as "45 s", "12 min" or "3 h 5 min". */
export function formatUptime(seconds: number | null): string {
  if (seconds === null || seconds === undefined) {
    return '';
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes} min`
    : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Totals of a traffic window: requests, errors, error rate, the worst p99. */
export function trafficTotals(minutes: MlopsAPI.ITrafficMinute[]): {
  requests: number;
  errors: number;
  errorRate: number;
  p99: number | null;
} {
  const requests = minutes.reduce((n, m) => n + m.requests, 0);
  const errors = minutes.reduce((n, m) => n + m.errors, 0);
  const p99s = minutes
    .map(m => m.p99_ms)
    .filter((v): v is number => v !== null);
  return {
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    p99: p99s.length ? Math.max(...p99s) : null
  };
}

/** How a watch waits between two looks (injected by the tests). */
export type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** The Deployments view's data. */
export class DeploymentsModel {
  /**
   * @param sleep waits between two health looks.
   * @param timeoutMs how long a deploy may take to answer /health before it counts as failed.
   */
  constructor(
    private readonly sleep: Sleep = realSleep,
    private readonly timeoutMs = 90_000
  ) {}

  /** Called after every state change. */
  onChange: (() => void) | null = null;

  /** The current state. */
  get state(): IDeploymentsState {
    return this.current;
  }

  /** Reload the list (and the open deployment); resolves true when something changed. */
  async refresh(): Promise<boolean> {
    const before = this.signature();
    try {
      const page = await listDeployments({
        live: this.current.showAll ? undefined : true,
        limit: 200
      });
      const next: Partial<IDeploymentsState> = {
        deployments: page.deployments,
        error: null
      };
      const id = this.current.open;
      if (id !== null) {
        const [detail, traffic, log] = await Promise.all([
          getDeployment(id),
          getDeploymentTraffic(id, 15),
          getDeploymentLog(id, 200)
        ]);
        next.detail = detail;
        next.traffic = traffic;
        next.log = log.lines;
      }
      this.set(next);
    } catch (error) {
      this.set({ error: (error as Error).message });
      throw error;
    }
    // A watched deploy keeps the panel polling fast until it settles.
    return (
      this.signature() !== before || this.current.progress?.phase === 'waiting'
    );
  }

  /** Open a deployment's detail (null: back to the list). */
  async openDeployment(id: number | null): Promise<void> {
    this.set({ open: id, detail: null, traffic: null, log: [] });
    await this.refresh();
  }

  /** List stopped deployments too, or only live ones. */
  async setShowAll(showAll: boolean): Promise<void> {
    this.set({ showAll });
    await this.refresh();
  }

  /** Start a model server (answers at once) and watch it until /health answers. */
  async deploy(body: MlopsAPI.ICreateDeploymentRequest): Promise<IProgress> {
    const started = await deployModel(body);
    this.set({
      progress: {
        kind: 'deploy',
        ref: body.ref,
        version: started.version,
        phase: 'waiting',
        message: `Starting ${body.ref} (v${started.version})…`,
        deploymentId: started.deployment_id
      }
    });
    return this.watch(started.model, started.version, started.deployment_id);
  }

  /** Move the deployment's alias back and watch until the old version answers. */
  async rollback(dep: MlopsAPI.IDeployment): Promise<IProgress> {
    const moved = await rollbackDeployment(dep.id);
    this.set({
      progress: {
        kind: 'rollback',
        ref: `${moved.model}@${moved.alias}`,
        version: moved.to_version,
        phase: 'waiting',
        message: `Rolling ${moved.model}@${moved.alias} back from v${moved.from_version} to v${moved.to_version}…`,
        deploymentId: null
      }
    });
    return this.watch(moved.model, moved.to_version, null);
  }

  /** Stop a deployment (resolves once it stopped). */
  async stop(id: number): Promise<MlopsAPI.IDeployment> {
    const answer = await stopDeployment(id);
    await this.refresh();
    return answer.deployment;
  }

  /** Forget a finished progress box. */
  dismissProgress(): void {
    this.set({ progress: null });
  }

  /**
   * Look at the model's servers until one serves `version` and answers /health (done), the
   * watched deployment failed or crashed (failed), or the time runs out (failed).
   */
  private async watch(
    model: string,
    version: number,
    id: number | null
  ): Promise<IProgress> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const page = await listDeployments({ model, limit: 200 });
      const serving = page.deployments.find(
        d =>
          (id === null || d.id === id) &&
          d.status === 'running' &&
          d.health.answered &&
          d.health.serving_version === version
      );
      const watched =
        id === null ? undefined : page.deployments.find(d => d.id === id);
      const progress = this.current.progress!;
      if (serving) {
        return this.settle({
          ...progress,
          phase: 'done',
          deploymentId: serving.id,
          message: `${progress.ref} v${version} is healthy at ${serving.url}`
        });
      }
      if (
        watched &&
        ['failed', 'crashed', 'stopped'].includes(watched.status)
      ) {
        const detail = await getDeployment(watched.id).catch(() => null);
        const why = detail?.events.filter(e => e.detail).pop()?.detail;
        return this.settle({
          ...progress,
          phase: 'failed',
          message: `${progress.ref} v${version} ${watched.status}${why ? `: ${why}` : ''}`
        });
      }
      if (Date.now() > deadline) {
        return this.settle({
          ...progress,
          phase: 'failed',
          message: `${progress.ref} v${version} did not answer its health check in ${Math.round(
            this.timeoutMs / 1000
          )} s; see its log.`
        });
      }
      await this.sleep(1000);
    }
  }

  private async settle(progress: IProgress): Promise<IProgress> {
    this.set({ progress });
    const open = this.current.open;
    if (
      progress.phase === 'done' &&
      open !== null &&
      progress.deploymentId !== open
    ) {
      // A redeploy or rollback replaced the open server: follow the one serving now.
      this.set({
        open: progress.deploymentId,
        detail: null,
        traffic: null,
        log: []
      });
    }
    await this.refresh().catch(() => undefined);
    return progress;
  }

  private signature(): string {
    const s = this.current;
    return JSON.stringify([
      s.deployments.map(d => [
        d.id,
        d.status,
        d.health.answered,
        d.health.serving_version
      ]),
      s.traffic?.minutes.map(m => [m.start, m.requests, m.errors]),
      s.log.length
    ]);
  }

  private set(patch: Partial<IDeploymentsState>): void {
    this.current = { ...this.current, ...patch };
    this.onChange?.();
  }

  private current: IDeploymentsState = {
    deployments: [],
    showAll: false,
    open: null,
    detail: null,
    traffic: null,
    log: [],
    progress: null,
    error: null
  };
}
