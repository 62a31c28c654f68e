/**
 * The data side of an item's Notes and History sections (a run, a model version, a
 * deployment): loading the notes and the audit entries, adding a note, which audit entries
 * belong to the item, and each entry as a sentence.
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
 * The `target` the History asks `GET audit` for: `run <id>`, `deployment <id>`, or the
 * model's name for a version (its aliases' moves are recorded under `churn@alias`).
 */
export function auditTarget(item: INotedItem): string {
  if (item.kind === 'model_version') {
    return item.target.split('/')[0];
  }
  return `${item.kind === 'run' ? 'run' : 'deployment'} ${item.target}`;
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

/** The entries of `GET audit` that belong on the item's History, newest first. */
export function historyOf(
  item: INotedItem,
  entries: MlopsAPI.IAuditEntry[]
): MlopsAPI.IAuditEntry[] {
  if (item.kind !== 'model_version') {
    return entries;
  }
  return entries.filter(e => concernsVersion(e, item.target));
}

function version(value: unknown): string {
  return value === null || value === undefined ? 'none' : `v${value}`;
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
    return `${who} ${verb} ${entry.target} ${version(detail.from_version)} → ${version(detail.to_version)}${reason}`;
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
  return `${who}: ${entry.action} ${entry.kind} ${entry.target}`;
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
      const [notes, audit] = await Promise.all([
        listNotes({ kind: this.item.kind, target: this.item.target }),
        listAudit({ target: auditTarget(this.item), limit: HISTORY_LIMIT })
      ]);
      this.set({
        notes,
        history: historyOf(this.item, audit.entries),
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
