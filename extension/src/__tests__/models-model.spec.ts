import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  ModelsModel,
  aliasChips,
  describeMove,
  formatTags,
  gateReason,
  gateValue,
  parseConditions,
  parseTags,
  signatureItems,
  tagChanges
} from '../models/models-model';

jest.mock('../api', () => ({
  listModels: jest.fn(),
  listModelVersions: jest.fn(),
  listAliasHistory: jest.fn(),
  getModelVersion: jest.fn(),
  setAlias: jest.fn(),
  deleteAlias: jest.fn(),
  promoteModel: jest.fn(),
  updateModel: jest.fn(),
  updateModelVersion: jest.fn()
}));

const mocked = api as jest.Mocked<typeof api>;

function model(
  name: string,
  aliases: Record<string, number> = {}
): MlopsAPI.IModelSummary {
  return {
    name,
    description: null,
    version_count: 2,
    latest_version: 2,
    aliases,
    tags: {},
    created_at: 1000,
    updated_at: 2000
  };
}

function version(
  n: number,
  aliases: string[] = []
): MlopsAPI.IModelVersionSummary {
  return {
    name: 'churn',
    version: n,
    run_id: `run${n}`.padEnd(32, '0'),
    created_at: 1000 + n,
    flavor: 'sklearn',
    format: 'skops',
    description: null,
    tags: { team: 'growth' },
    aliases,
    signature: {
      input_type: 'columns',
      inputs: [{ name: 'tenure', type: 'double' }],
      outputs: [{ name: 'prediction', type: 'long' }]
    },
    metrics: { accuracy: 0.9 + n / 100 }
  };
}

function gate(passed: boolean): MlopsAPI.IPromoteModelResponse {
  return {
    name: 'churn',
    candidate_version: 2,
    alias: 'production',
    passed,
    dry_run: false,
    checks: [
      {
        condition: 'metrics.accuracy >= 0.99',
        candidate: 0.92,
        reference: 0.99,
        passed,
        detail: passed ? '' : '0.92 < 0.99'
      }
    ],
    move: passed
      ? {
          name: 'churn',
          alias: 'production',
          from_version: 1,
          to_version: 2,
          changed_at: 3000,
          reason: 'promote'
        }
      : null
  };
}

beforeEach(() => {
  jest.resetAllMocks();
  mocked.listModels.mockResolvedValue({
    models: [model('churn', { production: 1 }), model('fraud')],
    total: 2,
    limit: 500,
    offset: 0
  });
  mocked.listModelVersions.mockResolvedValue({
    name: 'churn',
    versions: [version(2), version(1, ['production'])],
    total: 2,
    limit: 500,
    offset: 0,
    metric_keys: ['accuracy']
  });
  mocked.listAliasHistory.mockResolvedValue([]);
});

describe('model helpers', () => {
  it('sorts alias chips by alias name', () => {
    expect(aliasChips({ staging: 2, production: 1 })).toEqual([
      ['production', 1],
      ['staging', 2]
    ]);
  });

  it('reads tags typed as key=value and names a malformed one', () => {
    expect(parseTags('team=growth, reviewed = yes\nnote=a=b')).toEqual({
      tags: { team: 'growth', reviewed: 'yes', note: 'a=b' },
      errors: []
    });
    const bad = parseTags('team');
    expect(bad.errors).toEqual([
      '"team" is not key=value; write it as team=growth.'
    ]);
    expect(formatTags({ a: '1', b: '2' })).toBe('a=1, b=2');
  });

  it('sends only the tags that changed, and the ones removed', () => {
    expect(
      tagChanges({ a: '1', b: '2', c: '3' }, { a: '1', b: 'x', d: '4' })
    ).toEqual({
      set_tags: { b: 'x', d: '4' },
      remove_tags: ['c']
    });
  });

  it('reads gate conditions one a line, skipping blanks and comments', () => {
    expect(
      parseConditions('metrics.acc >= 0.9\n\n# why\n  params.C == 1 ')
    ).toEqual(['metrics.acc >= 0.9', 'params.C == 1']);
  });

  it('describes alias moves and gate values in words', () => {
    const move: MlopsAPI.IAliasMove = {
      name: 'churn',
      alias: 'production',
      from_version: null,
      to_version: 3,
      changed_at: 0,
      reason: 'rollback'
    };
    expect(describeMove(move)).toBe('production: unset → v3 (rollback)');
    expect(
      describeMove({ ...move, from_version: 3, to_version: null, reason: null })
    ).toBe('production: v3 → removed');
    expect(gateValue(null)).toBe('—');
    expect(gateValue(0.5)).toBe('0.5');
    expect(gateValue(0.9566666666666667)).toBe('0.9567');
    expect(gateValue('l2')).toBe('l2');
    expect(signatureItems(version(1).signature)).toEqual(['tenure: double']);
    expect(signatureItems(null)).toEqual([]);
  });
});

describe('gate reasons', () => {
  it('uses the gate’s words, else says what was compared', () => {
    const check = gate(false).checks[0];
    expect(gateReason(check)).toBe('0.92 < 0.99');
    expect(gateReason({ ...check, detail: '' })).toBe(
      '0.92 does not meet metrics.accuracy >= 0.99'
    );
    expect(gateReason({ ...check, detail: '', passed: true })).toBe(
      '0.92 meets metrics.accuracy >= 0.99'
    );
    expect(gateReason({ ...check, detail: '', candidate: null })).toBe(
      'The candidate has no such value.'
    );
  });
});

describe('ModelsModel', () => {
  it('lists models, then a model’s versions and history, then a version with its lineage', async () => {
    const m = new ModelsModel();
    expect(await m.refresh()).toBe(true);
    expect(m.state.models.map(x => x.name)).toEqual(['churn', 'fraud']);
    expect(mocked.listModelVersions).not.toHaveBeenCalled();

    await m.openModel('churn');
    expect(mocked.listModelVersions).toHaveBeenCalledWith('churn', {
      limit: 500
    });
    expect(m.state.versions.map(v => v.version)).toEqual([2, 1]);
    expect(m.state.metricKeys).toEqual(['accuracy']);

    mocked.getModelVersion.mockResolvedValue({
      ...version(1, ['production']),
      blob_hash: 'f'.repeat(64),
      lineage: {
        run: null,
        notebook_version: null,
        datasets: [],
        graph: {
          root: 'model:1',
          direction: 'both',
          nodes: [],
          edges: [],
          truncated: false
        }
      }
    });
    await m.openVersion(1);
    expect(mocked.getModelVersion).toHaveBeenCalledWith('churn', 1);
    expect(m.state.detail?.aliases).toEqual(['production']);

    await m.openModel(null);
    expect(m.state.model).toBeNull();
    expect(m.state.detail).toBeNull();
  });

  it('reports nothing changed when a poll finds the same models', async () => {
    const m = new ModelsModel();
    await m.refresh();
    expect(await m.refresh()).toBe(false);
    mocked.listModels.mockResolvedValue({
      models: [model('churn', { production: 2 })],
      total: 1,
      limit: 500,
      offset: 0
    });
    expect(await m.refresh()).toBe(true);
  });

  it('keeps the error message of a failed load', async () => {
    const m = new ModelsModel();
    mocked.listModels.mockRejectedValue(
      new Error('Cannot reach the Jupyter server')
    );
    await expect(m.refresh()).rejects.toThrow('Cannot reach');
    expect(m.state.error).toBe('Cannot reach the Jupyter server');
    expect(m.state.loading).toBe(false);
  });

  it('hands a failed gate back as a result, and reloads after a passing one', async () => {
    const m = new ModelsModel();
    await m.openModel('churn');
    mocked.promoteModel.mockResolvedValueOnce(gate(false));
    const failed = await m.promote('churn', {
      version: 2,
      alias: 'production'
    });
    expect(failed.passed).toBe(false);
    expect(failed.checks[0].detail).toBe('0.92 < 0.99');
    mocked.promoteModel.mockResolvedValueOnce(gate(true));
    const calls = mocked.listModels.mock.calls.length;
    const passed = await m.promote('churn', {
      version: 2,
      alias: 'production',
      require: ['metrics.accuracy >= 0.5']
    });
    expect(passed.move?.to_version).toBe(2);
    expect(mocked.listModels.mock.calls.length).toBe(calls + 1);
  });

  it('sets and removes aliases, and edits descriptions and tags', async () => {
    const m = new ModelsModel();
    mocked.setAlias.mockResolvedValue({} as MlopsAPI.IAliasMove);
    mocked.deleteAlias.mockResolvedValue({} as MlopsAPI.IAliasMove);
    mocked.updateModel.mockResolvedValue(model('churn'));
    mocked.updateModelVersion.mockResolvedValue(version(2));
    await m.setAlias('churn', 'staging', 2, 'try it');
    expect(mocked.setAlias).toHaveBeenCalledWith('churn', 'staging', {
      version: 2,
      reason: 'try it'
    });
    await m.deleteAlias('churn', 'staging');
    expect(mocked.deleteAlias).toHaveBeenCalledWith('churn', 'staging');
    await m.editModel(
      'churn',
      'churn classifier',
      { owner: 'ana', team: 'ml' },
      { team: 'retention' }
    );
    expect(mocked.updateModel).toHaveBeenCalledWith('churn', {
      description: 'churn classifier',
      set_tags: { team: 'retention' },
      remove_tags: ['owner']
    });
    await m.editVersion(
      'churn',
      2,
      'retrained',
      { team: 'growth', old: '1' },
      { team: 'ml' }
    );
    expect(mocked.updateModelVersion).toHaveBeenCalledWith('churn', 2, {
      description: 'retrained',
      set_tags: { team: 'ml' },
      remove_tags: ['old']
    });
  });
});
