import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  DeploymentsModel,
  formatUptime,
  healthState,
  isLive,
  trafficTotals
} from '../deployments/deployments-model';
import { deployRefs, parsePort } from '../deployments/deploy-refs';

jest.mock('../api', () => ({
  listDeployments: jest.fn(),
  getDeployment: jest.fn(),
  getDeploymentTraffic: jest.fn(),
  getDeploymentLog: jest.fn(),
  deployModel: jest.fn(),
  stopDeployment: jest.fn(),
  rollbackDeployment: jest.fn()
}));

const mocked = api as jest.Mocked<typeof api>;

function dep(
  id: number,
  status: MlopsAPI.DeploymentStatus,
  answered = false,
  serving: number | null = null,
  alive: boolean | null = true
): MlopsAPI.IDeployment {
  return {
    id,
    model: 'churn',
    version: 1,
    alias: 'production',
    ref: 'churn@production (v1)',
    status,
    host: '127.0.0.1',
    port: 5005,
    url: 'http://127.0.0.1:5005',
    pid: 100 + id,
    hostname: 'here',
    created_at: 1000,
    updated_at: 1000,
    health: {
      process_alive: alive,
      answered,
      health_status: answered ? 'ok' : null,
      serving_version: serving,
      uptime_s: answered ? 5 : null
    }
  };
}

function page(
  ...deployments: MlopsAPI.IDeployment[]
): MlopsAPI.IListDeploymentsResponse {
  return { deployments, total: deployments.length, limit: 200, offset: 0 };
}

function minute(
  start: number,
  requests: number,
  errors: number,
  p99: number | null
): MlopsAPI.ITrafficMinute {
  return {
    start,
    requests,
    errors,
    p50_ms: p99 === null ? null : p99 / 2,
    p99_ms: p99,
    source: 'monitoring'
  };
}

const noSleep = () => Promise.resolve();

beforeEach(() => jest.resetAllMocks());

describe('deployment helpers', () => {
  it('turns status and live health into the dot', () => {
    expect(healthState(dep(1, 'running', true, 1))).toBe('healthy');
    expect(healthState(dep(1, 'starting'))).toBe('starting');
    expect(healthState(dep(1, 'running', false, null, true))).toBe('unhealthy');
    expect(healthState(dep(1, 'running', false, null, false))).toBe('crashed');
    expect(healthState(dep(1, 'failed'))).toBe('failed');
    expect(healthState(dep(1, 'stopping'))).toBe('stopped');
    expect(isLive(dep(1, 'stopping'))).toBe(true);
    expect(isLive(dep(1, 'stopped'))).toBe(false);
  });

  it('adds up a traffic window', () => {
    expect(
      trafficTotals([
        minute(0, 10, 1, 12.5),
        minute(60, 30, 0, 40),
        minute(120, 0, 0, null)
      ])
    ).toEqual({
      requests: 40,
      errors: 1,
      errorRate: 0.025,
      p99: 40
    });
    expect(trafficTotals([])).toEqual({
      requests: 0,
      errors: 0,
      errorRate: 0,
      p99: null
    });
  });

  it('formats uptime, deploy refs and ports', () => {
    expect(formatUptime(42)).toBe('42 s');
    expect(formatUptime(600)).toBe('10 min');
    expect(formatUptime(3900)).toBe('1 h 5 min');
    expect(formatUptime(null)).toBe('');
    expect(deployRefs('churn', 3, ['production'])).toEqual([
      'churn@production',
      'churn/3'
    ]);
    expect(parsePort('')).toEqual({});
    expect(parsePort(' 5010 ')).toEqual({ port: 5010 });
    expect(parsePort('80').error).toMatch(/1024 to 65535/);
    expect(parsePort('abc').error).toMatch(/whole number/);
  });
});

describe('DeploymentsModel', () => {
  it('watches a deploy until its /health answers the version', async () => {
    mocked.deployModel.mockResolvedValue({
      deployment_id: 7,
      model: 'churn',
      version: 1,
      status: 'starting'
    });
    mocked.listDeployments
      .mockResolvedValueOnce(page(dep(7, 'starting')))
      .mockResolvedValueOnce(page(dep(7, 'running', false)))
      .mockResolvedValue(page(dep(7, 'running', true, 1)));
    const phases: string[] = [];
    const m = new DeploymentsModel(noSleep);
    m.onChange = () => phases.push(m.state.progress?.phase ?? 'none');
    const progress = await m.deploy({ ref: 'churn@production' });
    expect(mocked.deployModel).toHaveBeenCalledWith({
      ref: 'churn@production'
    });
    expect(progress.phase).toBe('done');
    expect(progress.deploymentId).toBe(7);
    expect(progress.message).toBe(
      'churn@production v1 is healthy at http://127.0.0.1:5005'
    );
    expect(phases[0]).toBe('waiting');
    expect(m.state.deployments.map(d => d.id)).toEqual([7]);
  });

  it('reports a deploy that failed with the reason from its events', async () => {
    mocked.deployModel.mockResolvedValue({
      deployment_id: 8,
      model: 'churn',
      version: 2,
      status: 'starting'
    });
    mocked.listDeployments.mockResolvedValue(page(dep(8, 'failed')));
    mocked.getDeployment.mockResolvedValue({
      ...dep(8, 'failed'),
      events: [
        { event: 'created', detail: null, at: 1 },
        {
          event: 'failed',
          detail: 'pickle version needs --allow-pickle',
          at: 2
        }
      ]
    });
    const progress = await new DeploymentsModel(noSleep).deploy({
      ref: 'churn/2'
    });
    expect(progress.phase).toBe('failed');
    expect(progress.message).toBe(
      'churn/2 v2 failed: pickle version needs --allow-pickle'
    );
  });

  it('gives up when the health check never answers', async () => {
    mocked.deployModel.mockResolvedValue({
      deployment_id: 9,
      model: 'churn',
      version: 1,
      status: 'starting'
    });
    mocked.listDeployments.mockResolvedValue(page(dep(9, 'starting')));
    const progress = await new DeploymentsModel(noSleep, -1).deploy({
      ref: 'churn'
    });
    expect(progress.phase).toBe('failed');
    expect(progress.message).toMatch(/did not answer its health check/);
  });

  it('watches a rollback until a server of the model serves the old version', async () => {
    mocked.rollbackDeployment.mockResolvedValue({
      deployment_id: 3,
      model: 'churn',
      alias: 'production',
      from_version: 2,
      to_version: 1
    });
    mocked.listDeployments
      .mockResolvedValueOnce(page(dep(3, 'running', true, 2)))
      .mockResolvedValue(
        page(dep(3, 'stopping', true, 2), dep(4, 'running', true, 1))
      );
    const m = new DeploymentsModel(noSleep);
    const progress = await m.rollback(dep(3, 'running', true, 2));
    expect(mocked.rollbackDeployment).toHaveBeenCalledWith(3);
    expect(progress.phase).toBe('done');
    expect(progress.deploymentId).toBe(4);
    expect(mocked.listDeployments).toHaveBeenCalledWith({
      model: 'churn',
      limit: 200
    });
  });

  it('loads the open deployment with traffic and log, and notices new traffic', async () => {
    mocked.listDeployments.mockResolvedValue(page(dep(1, 'running', true, 1)));
    mocked.getDeployment.mockResolvedValue({
      ...dep(1, 'running', true, 1),
      events: []
    });
    mocked.getDeploymentLog.mockResolvedValue({
      deployment_id: 1,
      lines: ['Uvicorn running']
    });
    const traffic = (
      requests: number
    ): MlopsAPI.IDescribeDeploymentTrafficResponse => ({
      deployment_id: 1,
      source: 'monitoring',
      sample_rate: 1,
      minutes: [minute(60, requests, 0, 3)]
    });
    mocked.getDeploymentTraffic.mockResolvedValue(traffic(0));
    const m = new DeploymentsModel(noSleep);
    await m.openDeployment(1);
    expect(mocked.listDeployments).toHaveBeenCalledWith({
      live: true,
      limit: 200
    });
    expect(mocked.getDeploymentTraffic).toHaveBeenCalledWith(1, 15);
    expect(mocked.getDeploymentLog).toHaveBeenCalledWith(1, 200);
    expect(m.state.log).toEqual(['Uvicorn running']);
    expect(await m.refresh()).toBe(false);
    mocked.getDeploymentTraffic.mockResolvedValue(traffic(12));
    expect(await m.refresh()).toBe(true);
    await m.setShowAll(true);
    expect(mocked.listDeployments).toHaveBeenLastCalledWith({
      live: undefined,
      limit: 200
    });
  });

  it('stops a deployment and reloads', async () => {
    mocked.stopDeployment.mockResolvedValue({ deployment: dep(1, 'stopped') });
    mocked.listDeployments.mockResolvedValue(page());
    const m = new DeploymentsModel(noSleep);
    expect((await m.stop(1)).status).toBe('stopped');
    expect(mocked.stopDeployment).toHaveBeenCalledWith(1);
    expect(m.state.deployments).toEqual([]);
  });
});
