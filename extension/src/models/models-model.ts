/**
 * State of the Models view: the registered models, the open model's versions and alias
 * history, and the open version's detail with its lineage. Talks to the server only through
 * src/api.ts (the jest tests mock it); the actions (alias, promote, edit) reload what they change.
 */
import {
  MlopsAPI,
  deleteAlias,
  getModelVersion,
  listAliasHistory,
  listModelVersions,
  listModels,
  promoteModel,
  setAlias,
  updateModel,
  updateModelVersion
} from '../api';
import { formatValue } from '../runs/runs-model';

/** Everything the Models view renders. */
export interface IModelsState {
  /** Registered models, by name. */
  models: MlopsAPI.IModelSummary[];
  /** Models in all. */
  total: number;
  /** The open model (null: the list shows). */
  model: string | null;
  /** The open model's versions, newest first. */
  versions: MlopsAPI.IModelVersionSummary[];
  /** Metric names of the versions' runs (table columns). */
  metricKeys: string[];
  /** The open model's alias moves, newest first. */
  history: MlopsAPI.IAliasMove[];
  /** The open version (null: the versions table shows). */
  version: number | null;
  /** The open version's detail with lineage. */
  detail: MlopsAPI.IDescribeModelVersionResponse | null;
  /** The last error message, if the last load failed. */
  error: string | null;
  /** Whether a load is running. */
  loading: boolean;
}

/** A model's aliases as chips, sorted by alias name: `[["production", 3], ...]`. */
export function aliasChips(
  aliases: Record<string, number>
): [string, number][] {
  return Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b));
}

/** `key=value` pairs separated by commas or new lines, e.g. `team=growth, reviewed=yes`. */
export function parseTags(text: string): {
  tags: Record<string, string>;
  errors: string[];
} {
  const tags: Record<string, string> = {};
  const errors: string[] = [];
  for (const part of text.split(/[,\n]/)) {
    const item = part.trim();
    if (!item) {
      continue;
    }
    const at = item.indexOf('=');
    if (at <= 0) {
      errors.push(`"${item}" is not key=value; write it as team=growth.`);
      continue;
    }
    tags[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return { tags, errors };
}

/** Tags as the editor shows them: `a=1, b=2`. */
export function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** The PATCH body that turns `before` into `after` (tags set, tags removed). */
export function tagChanges(
  before: Record<string, string>,
  after: Record<string, string>
): { set_tags: Record<string, string>; remove_tags: string[] } {
  const set_tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(after)) {
    if (before[key] !== value) {
      set_tags[key] = value;
    }
  }
  const remove_tags = Object.keys(before).filter(k => !(k in after));
  return { set_tags, remove_tags };
}

/** Gate conditions, one a line (blank lines and `#` comments skipped). */
export function parseConditions(text: string): string[] {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line && !line.startsWith('#'));
}

/** A gate value as the table shows it (numbers with 4 significant digits). */
export function gateValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return formatValue(value);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Why a check passed or failed: the gate's own words, else what was compared. */
export function gateReason(check: MlopsAPI.IGateCheck): string {
  if (check.detail) {
    return check.detail;
  }
  if (check.candidate === null || check.candidate === undefined) {
    return 'The candidate has no such value.';
  }
  return `${gateValue(check.candidate)} ${check.passed ? 'meets' : 'does not meet'} ${
    check.condition
  }`;
}

/** An alias move in words: "production: v1 → v2 (promote ...)". */
export function describeMove(move: MlopsAPI.IAliasMove): string {
  const from = move.from_version === null ? 'unset' : `v${move.from_version}`;
  const to = move.to_version === null ? 'removed' : `v${move.to_version}`;
  return `${move.alias}: ${from} → ${to}${move.reason ? ` (${move.reason})` : ''}`;
}

/** A signature's inputs as "name: type" items. */
export function signatureItems(
  signature: MlopsAPI.IModelSignature | null
): string[] {
  return signature ? signature.inputs.map(f => `${f.name}: ${f.type}`) : [];
}

function signatureOf(state: IModelsState): string {
  return JSON.stringify([
    state.models.map(m => [
      m.name,
      m.version_count,
      m.aliases,
      m.updated_at,
      m.description
    ]),
    state.versions.map(v => [v.version, v.aliases, v.tags, v.description]),
    state.history.length,
    state.detail && [
      state.detail.version,
      state.detail.aliases,
      state.detail.tags
    ]
  ]);
}

/** The Models view's data. */
export class ModelsModel {
  /** Called after every state change. */
  onChange: (() => void) | null = null;

  /** The current state (replaced, never mutated). */
  get state(): IModelsState {
    return this.current;
  }

  /** Reload what is shown; resolves true when something changed. */
  async refresh(): Promise<boolean> {
    const before = signatureOf(this.current);
    this.set({ loading: true });
    try {
      const page = await listModels({ limit: 500 });
      const next: Partial<IModelsState> = {
        models: page.models,
        total: page.total,
        error: null
      };
      const name = this.current.model;
      if (name) {
        const [versions, history] = await Promise.all([
          listModelVersions(name, { limit: 500 }),
          listAliasHistory(name)
        ]);
        next.versions = versions.versions;
        next.metricKeys = versions.metric_keys;
        next.history = history;
        const version = this.current.version;
        next.detail =
          version === null ? null : await getModelVersion(name, version);
      }
      this.set({ ...next, loading: false });
    } catch (error) {
      this.set({ error: (error as Error).message, loading: false });
      throw error;
    }
    return signatureOf(this.current) !== before;
  }

  /** Open a model's versions (null: back to the list). */
  async openModel(name: string | null): Promise<void> {
    this.set({
      model: name,
      version: null,
      detail: null,
      versions: [],
      history: [],
      metricKeys: []
    });
    await this.refresh();
  }

  /** Open a version's detail (null: back to the versions table). */
  async openVersion(version: number | null): Promise<void> {
    this.set({ version, detail: null });
    await this.refresh();
  }

  /** Point `alias` of `name` at `version` (sets or moves it). */
  async setAlias(
    name: string,
    alias: string,
    version: number,
    reason?: string
  ): Promise<MlopsAPI.IAliasMove> {
    const move = await setAlias(name, alias, { version, reason });
    await this.refresh();
    return move;
  }

  /** Remove an alias. */
  async deleteAlias(name: string, alias: string): Promise<MlopsAPI.IAliasMove> {
    const move = await deleteAlias(name, alias);
    await this.refresh();
    return move;
  }

  /** Run the promotion gate; a failed gate resolves with `passed: false`. */
  async promote(
    name: string,
    body: MlopsAPI.IPromoteModelRequest
  ): Promise<MlopsAPI.IPromoteModelResponse> {
    const result = await promoteModel(name, body);
    await this.refresh();
    return result;
  }

  /** Change a model's description and tags (only what differs is sent). */
  async editModel(
    name: string,
    description: string,
    before: Record<string, string>,
    after: Record<string, string>
  ): Promise<void> {
    await updateModel(name, { description, ...tagChanges(before, after) });
    await this.refresh();
  }

  /** Change a version's description and tags (only what differs is sent). */
  async editVersion(
    name: string,
    version: number,
    description: string,
    before: Record<string, string>,
    after: Record<string, string>
  ): Promise<void> {
    await updateModelVersion(name, version, {
      description,
      ...tagChanges(before, after)
    });
    await this.refresh();
  }

  private set(patch: Partial<IModelsState>): void {
    this.current = { ...this.current, ...patch };
    this.onChange?.();
  }

  private current: IModelsState = {
    models: [],
    total: 0,
    model: null,
    versions: [],
    metricKeys: [],
    history: [],
    version: null,
    detail: null,
    error: null,
    loading: false
  };
}
