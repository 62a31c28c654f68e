import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  MonitoringModel,
  PERIODS,
  dataNotes,
  driftRows,
  monitoringSeries,
  sortedAlerts,
  totalRequests
} from '../deployments/monitoring-model';

jest.mock('../api', () => ({ getDeploymentMonitoring: jest.fn() }));

const mocked = api as jest.Mocked<typeof api>;

function verdict(
  feature: string,
  drifted: boolean | null,
  score: number | null,
  extra: Partial<MlopsAPI.IFeatureDriftVerdict> = {}
): MlopsAPI.IFeatureDriftVerdict {
  return {
    feature,
    kind: 'numeric',
    method: 'psi',
    score,
    threshold: 0.2,
    drifted,
    status: drifted === null ? 'not enough data' : drifted ? 'drift' : 'ok',
    rows: 1500,
    bins: null,
    training_shares: null,
    live_shares: null,
    ...extra
  };
}

function windowOf(
  start: number,
  values: Record<string, number>,
  rows = 0
): MlopsAPI.IMonitoringWindow {
  return { start, end: start + 3600, rows, enough_data: rows >= 100, values };
}

function answer(
  over: Partial<MlopsAPI.IDescribeDeploymentMonitoringResponse> = {}
): MlopsAPI.IDescribeDeploymentMonitoringResponse {
  return {
    deployment_id: 4,
    model: 'churn/1',
    version: 1,
    since: 0,
    until: 10800,
    window_s: 3600,
    has_profile: true,
    min_rows: 100,
    windows: [
      windowOf(0, { requests: 0 }),
      windowOf(
        3600,
        {
          requests: 200,
          'errors.rate': 0.05,
          'latency.p50_ms': 4,
          'latency.p99_ms': 40,
          rmse: 1.5
        },
        190
      ),
      windowOf(7200, { requests: 0 })
    ],
    drift: {
      start: 3600,
      end: 7200,
      rows: 190,
      share: 0.5,
      drift_share: 0.5,
      drifted: true,
      features: [
        verdict('charges', true, 0.61, {
          bins: ['0–50', '50–100', '< 0', '> 100'],
          training_shares: [0.5, 0.5, 0, 0],
          live_shares: [0.1, 0.5, 0, 0.4]
        }),
        verdict('tenure', false, 0.01)
      ],
      prediction: verdict('prediction', null, null)
    },
    alerts: [],
    ...over
  };
}

describe('drift rows', () => {
  it('gives each feature its dot, score and threshold, and the prediction last', () => {
    const rows = driftRows(answer().drift);
    expect(rows.map(r => [r.feature, r.state, r.score, r.threshold])).toEqual([
      ['charges', 'drift', '0.610', '0.200'],
      ['tenure', 'ok', '0.010', '0.200'],
      ['prediction', 'not-enough-data', '—', '0.200']
    ]);
  });

  it('pairs training and live shares per bin for a drifted feature only', () => {
    const [charges, tenure] = driftRows(answer().drift);
    expect(charges.bins).toEqual([
      { label: '0–50', training: 0.5, live: 0.1 },
      { label: '50–100', training: 0.5, live: 0.5 },
      { label: '< 0', training: 0, live: 0 },
      { label: '> 100', training: 0, live: 0.4 }
    ]);
    expect(tenure.bins).toBeNull();
  });

  it('has no rows without a window with enough data', () => {
    expect(driftRows(null)).toEqual([]);
  });
});

describe('chart series', () => {
  it('charts the regression metric when there is no accuracy, unknowns as gaps', () => {
    const series = monitoringSeries(answer());
    expect(series.starts).toEqual([0, 3600, 7200]);
    expect(series.quality).toEqual({ name: 'rmse', values: [null, 1.5, null] });
    expect(series.p50).toEqual([null, 4, null]);
    expect(series.p99).toEqual([null, 40, null]);
    expect(series.errorRate).toEqual([null, 5, null]);
  });

  it('prefers accuracy, and has no quality line without labels', () => {
    const labelled = answer({
      windows: [windowOf(0, { requests: 10, accuracy: 0.9, rmse: 0.1 })]
    });
    expect(monitoringSeries(labelled).quality?.name).toBe('accuracy');
    const unlabelled = answer({ windows: [windowOf(0, { requests: 10 })] });
    expect(monitoringSeries(unlabelled).quality).toBeNull();
  });
});

describe('not enough data, said plainly', () => {
  it('says nothing when every part can be shown', () => {
    expect(dataNotes(answer(), 'last 24 h')).toEqual([]);
    expect(totalRequests(answer())).toBe(200);
  });

  it('says there were no requests at all', () => {
    const idle = answer({
      windows: [windowOf(0, { requests: 0 })],
      drift: null
    });
    expect(dataNotes(idle, 'last 24 h')).toEqual([
      'Not enough data: no requests reached churn/1 in the last 24 h.'
    ]);
  });

  it('names the rows a drift verdict needs, and the missing labels', () => {
    const few = answer({
      windows: [windowOf(0, { requests: 12 }, 12)],
      drift: null
    });
    const notes = dataNotes(few, 'last hour');
    expect(notes[0]).toContain('no window in the last hour has 100 rows');
    expect(notes[1]).toContain('No labels in this period');
  });

  it('says why a version without a profile has no drift', () => {
    const notes = dataNotes(answer({ has_profile: false }), 'last 24 h');
    expect(notes).toEqual([
      expect.stringContaining('churn/1 has no training profile')
    ]);
  });
});

describe('alert rules', () => {
  it('lists the firing ones first', () => {
    const rule = (
      name: string,
      firing: boolean
    ): MlopsAPI.IMonitoringAlertRule => ({
      name,
      model_ref: 'churn@production',
      conditions: ['drift.share > 0.3'],
      window_s: 3600,
      paused: false,
      evaluated_at: null,
      incident: firing
        ? {
            id: 1,
            opened_at: 1,
            last_seen_at: 2,
            window_start: 0,
            window_end: 3600,
            broken: { 'drift.share > 0.3': 0.5 },
            notified_at: null
          }
        : null
    });
    const names = sortedAlerts([
      rule('a', false),
      rule('z', true),
      rule('b', false)
    ]);
    expect(names.map(r => r.name)).toEqual(['z', 'a', 'b']);
  });
});

describe('MonitoringModel', () => {
  beforeEach(() => mocked.getDeploymentMonitoring.mockReset());

  it('loads the first period, then another one when chosen', async () => {
    mocked.getDeploymentMonitoring.mockResolvedValue(answer());
    const model = new MonitoringModel(4);
    const changes = jest.fn();
    model.onChange = changes;
    await model.load();
    expect(mocked.getDeploymentMonitoring).toHaveBeenCalledWith(4, {
      since: '24h',
      window: '1h'
    });
    expect(model.state.data?.model).toBe('churn/1');
    await model.setPeriod(1);
    expect(mocked.getDeploymentMonitoring).toHaveBeenLastCalledWith(4, {
      since: PERIODS[1].since,
      window: PERIODS[1].window
    });
    expect(changes).toHaveBeenCalled();
  });

  it('keeps the server message on failure and refuses an unknown period', async () => {
    mocked.getDeploymentMonitoring.mockRejectedValue(
      new Error('No deployment 4; list them with mlops deployments.')
    );
    const model = new MonitoringModel(4);
    await model.load();
    expect(model.state.error).toBe(
      'No deployment 4; list them with mlops deployments.'
    );
    expect(model.state.data).toBeNull();
    await expect(model.setPeriod(9)).rejects.toThrow('choose 0-2');
  });

  it('drops an answer that arrives after the period changed', async () => {
    let release: (
      v: MlopsAPI.IDescribeDeploymentMonitoringResponse
    ) => void = () => {};
    mocked.getDeploymentMonitoring
      .mockReturnValueOnce(new Promise(resolve => (release = resolve)))
      .mockResolvedValueOnce(answer({ model: 'churn/2' }));
    const model = new MonitoringModel(4);
    const first = model.load();
    await model.setPeriod(2);
    release(answer({ model: 'stale' }));
    await first;
    expect(model.state.data?.model).toBe('churn/2');
  });
});
