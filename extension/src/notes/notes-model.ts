/**
 * The data side of an item's Notes and History sections (a run, a model version, a
 * deployment) and of the Changes of a schedule or an alert rule: loading the notes and the
 * audit entries, adding a note, which audit entries belong to the item, and each entry as a
 * sentence.
 */
import { MlopsAPI, createNote, listAudit, listNotes } from '../api';

/** The longest note the server accepts (core/store/notes.py MAX_NOTE_CHARS). */
export const MAX_NOTE_CHARS = 6000;

/** How many audit entries a History list loads. */
export const HISTORY_LIMIT = 50;

/** The item whose notes and history are shown. */
export interface INotedItem {
  /** What it is. */
  kind: MlopsAPI.NoteKind;
  /** Its stored name: the full run id, `churn/7`, or the deployment id. */
  target: string;
}

/** What can have a history: what takes notes, and schedules and alert rules (by name). */
export type HistoryKind = MlopsAPI.NoteKind | 'schedule' | 'alert';

/** The item whose history (audit entries) is shown. */
export interface IHistoryItem {
  /** What it is. */
  kind: HistoryKind;
  /** Its stored name: the full run id, `churn/7`, the deployment id, or the schedule's or rule's name. */
  target: string;
}

/** Whether the item is named by its name alone in the audit trail (a schedule, an alert rule). */
function byName(item: IHistoryItem): item is IHistoryItem & {
  kind: 'schedule' | 'alert';
} {
  return item.kind === 'schedule' || item.kind === 'alert';
}

/** Raised when a note cannot be sent as typed (the message says why and what to do). */
export class NoteTextError extends Error {}

/** The note to send: trimmed, not empty, not too long. */
export function checkNoteText(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) {
    throw new NoteTextError('Write the note first.');
  }
  if (trimmed.length > MAX_NOTE_CHARS) {
    throw new NoteTextError(
      `The note has ${trimmed.length} characters; keep it under ${MAX_NOTE_CHARS} (link a document for more).`
    );
  }
  return trimmed;
}

/**
 * The `target` the History asks `GET audit` for: `run <id>`, `deployment <id>`, the model's
 * name for a version (its aliases' moves are recorded under `churn@alias`), or the name of a
 * schedule or an alert rule.
 */
export function auditTarget(item: IHistoryItem): string {
  if (byName(item)) {
    return item.target;
  }
  if (item.kind === 'model_version') {
    return item.target.split('/')[0];
  }
  return `${item.kind === 'run' ? 'run' : 'deployment'} ${item.target}`;
}

/**
 * The query of `GET audit` for the item's history. A schedule's or a rule's name is asked with
 * its kind, so a model or an alert rule of the same name does not mix in.
 */
export function auditQuery(item: IHistoryItem): MlopsAPI.IListAuditQuery {
  const query: MlopsAPI.IListAuditQuery = {
    target: auditTarget(item),
    limit: HISTORY_LIMIT
  };
  if (byName(item)) {
    query.kind = item.kind;
  }
  return query;
}

/** Whether an entry of the model's trail concerns this version (or the model as a whole). */
function concernsVersion(entry: MlopsAPI.IAuditEntry, target: string): boolean {
  const [name, version] = target.split('/');
  if (entry.target === target || entry.target === name) {
    return true;
  }
  if (entry.kind === 'alias' && entry.target.startsWith(`${name}@`)) {
    const detail = entry.detail ?? {};
    return (
      String(detail.from_version) === version ||
      String(detail.to_version) === version
    );
  }
  return false;
}

/**
 * A schedule's or a rule's own entries: its name exactly, back to the newest `create` (older
 * entries are of an earlier schedule or rule of that name, deleted since).
 */
function sinceCreated(
  item: IHistoryItem,
  entries: MlopsAPI.IAuditEntry[]
): MlopsAPI.IAuditEntry[] {
  const own: MlopsAPI.IAuditEntry[] = [];
  for (const e of entries) {
    if (e.kind !== item.kind || e.target !== item.target) {
      continue;
    }
    own.push(e);
    if (e.action === 'create') {
      break;
    }
  }
  return own;
}

/** The entries of `GET audit` that belong on the item's History, newest first. */
export function historyOf(
  item: IHistoryItem,
  entries: MlopsAPI.IAuditEntry[]
): MlopsAPI.IAuditEntry[] {
  if (byName(item)) {
    return sinceCreated(item, entries);
  }
  if (item.kind !== 'model_version') {
    return entries;
  }
  return entries.filter(e => concernsVersion(e, item.target));
}

/** Load the item's history (newest first): `GET audit`, then {@link historyOf}. */
export async function loadHistory(
  item: IHistoryItem
): Promise<MlopsAPI.IAuditEntry[]> {
  const page = await listAudit(auditQuery(item));
  return historyOf(item, page.entries);
}

/** What a schedule's or a rule's change did, after who: `paused schedule nightly`. */
function describeNamedChange(entry: MlopsAPI.IAuditEntry): string {
  const detail = entry.detail ?? {};
  const verb =
    {
      create: 'created',
      update: 'edited',
      pause: 'paused',
      resume: 'resumed',
      delete: 'deleted'
    }[entry.action] ?? entry.action;
  const what = `${verb} ${entry.kind === 'alert' ? 'alert' : 'schedule'} ${entry.target}`;
  if (entry.action !== 'create' && entry.action !== 'update') {
    return what;
  }
  if (entry.kind === 'schedule') {
    const zone = detail.timezone ? ` (${String(detail.timezone)})` : '';
    return detail.cron ? `${what}: ${String(detail.cron)}${zone}` : what;
  }
  const conditions = Array.isArray(detail.conditions)
    ? `: ${detail.conditions.map(String).join(' or ')}`
    : '';
  const model = detail.model ? ` on ${String(detail.model)}` : '';
  return `${what}${model}${conditions}`;
}

/** An entry as a sentence: `ada moved churn@production v6 → v7 (set by hand)`. */
export function describeEntry(entry: MlopsAPI.IAuditEntry): string {
  const detail = entry.detail ?? {};
  const who = entry.actor;
  if (entry.kind === 'alias') {
    const verb =
      {
        set: 'set',
        move: 'moved',
        rollback: 'rolled back',
        delete: 'removed'
      }[entry.action] ?? entry.action;
    const reason = detail.reason ? ` (${String(detail.reason)})` : '';
    const [from, to] = [detail.from_version, detail.to_version].map(v =>
      v === null || v === undefined ? null : `v${v}`
    );
    // a new alias has no "from", a removed one no "to": say it in words, not with "none"
    const change =
      from === null
        ? `to ${to}`
        : to === null
          ? `(was ${from})`
          : `${from} → ${to}`;
    return `${who} ${verb} ${entry.target} ${change}${reason}`;
  }
  if (entry.kind === 'note') {
    return `${who} added a note`;
  }
  if (entry.kind === 'deployment' && entry.action === 'create') {
    return `${who} deployed ${String(detail.model)}/${String(detail.version)} at ${String(detail.address)}`;
  }
  if (entry.kind === 'deployment' && entry.action === 'stop') {
    return `${who} stopped ${entry.target}${detail.reason ? ` (${String(detail.reason)})` : ''}`;
  }
  if (entry.kind === 'schedule' || entry.kind === 'alert') {
    return `${who} ${describeNamedChange(entry)}`;
  }
  return `${who}: ${entry.action} ${entry.kind} ${entry.target}`;
}

/** What a history-only section (a schedule's or a rule's Changes) shows. */
export interface IHistoryState {
  /** The item's audit entries, newest first. */
  history: MlopsAPI.IAuditEntry[];
  /** Whether the first load finished. */
  loaded: boolean;
  /** The last load error, for the user. */
  error: string | null;
}

/** Loads an item's history alone; `onChange` is called after every change of `state`. */
export class HistoryModel {
  /** The current state. */
  state: IHistoryState = { history: [], loaded: false, error: null };

  /** Called after every change of `state` (the view redraws). */
  onChange: (() => void) | null = null;

  /** @param item the schedule or alert rule (or any item with a history) shown. */
  constructor(readonly item: IHistoryItem) {}

  /**
   * Load the history; on failure the last list stays, with the error. When loads overlap
   * (the panel refreshed again before an answer came), only the latest one's answer shows.
   */
  async load(): Promise<void> {
    const ticket = ++this.loads;
    let next: IHistoryState;
    try {
      const history = await loadHistory(this.item);
      next = { history, loaded: true, error: null };
    } catch (err) {
      next = { ...this.state, loaded: true, error: (err as Error).message };
    }
    if (ticket !== this.loads) {
      return;
    }
    this.state = next;
    this.onChange?.();
  }

  private loads = 0;
}

/** What the sections show. */
export interface INotesState {
  /** Oldest first. */
  notes: MlopsAPI.INote[];
  /** The item's audit entries, newest first. */
  history: MlopsAPI.IAuditEntry[];
  /** Whether the first load finished. */
  loaded: boolean;
  /** The last load or add error, for the user. */
  error: string | null;
  /** A note is being sent. */
  saving: boolean;
}

/** Loads and adds an item's notes; `onChange` is called after every change of `state`. */
export class NotesModel {
  /** The current state. */
  state: INotesState = {
    notes: [],
    history: [],
    loaded: false,
    error: null,
    saving: false
  };

  /** Called after every change of `state` (the view redraws). */
  onChange: (() => void) | null = null;

  /** @param item the run, model version or deployment shown. */
  constructor(readonly item: INotedItem) {}

  private set(change: Partial<INotesState>): void {
    this.state = { ...this.state, ...change };
    this.onChange?.();
  }

  /** Load the notes and the history (both at once). */
  async load(): Promise<void> {
    try {
      const [notes, history] = await Promise.all([
        listNotes({ kind: this.item.kind, target: this.item.target }),
        loadHistory(this.item)
      ]);
      this.set({
        notes,
        history,
        loaded: true,
        error: null
      });
    } catch (err) {
      this.set({ loaded: true, error: (err as Error).message });
    }
  }

  /** Send a note; true when it was stored (the lists reload). */
  async add(text: string): Promise<boolean> {
    let checked: string;
    try {
      checked = checkNoteText(text);
    } catch (err) {
      this.set({ error: (err as Error).message });
      return false;
    }
    this.set({ saving: true, error: null });
    try {
      await createNote({
        kind: this.item.kind,
        target: this.item.target,
        text: checked
      });
    } catch (err) {
      this.set({ saving: false, error: (err as Error).message });
      return false;
    }
    this.set({ saving: false });
    await this.load();
    return true;
  }
}
