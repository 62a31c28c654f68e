import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  NoteTextError,
  NotesModel,
  auditTarget,
  checkNoteText,
  describeEntry,
  historyOf
} from '../notes/notes-model';

jest.mock('../api', () => ({
  listNotes: jest.fn(),
  createNote: jest.fn(),
  listAudit: jest.fn()
}));

const mocked = api as jest.Mocked<typeof api>;

function entry(
  id: number,
  kind: MlopsAPI.AuditKind,
  target: string,
  action: string,
  detail: Record<string, unknown> | null = null,
  actor = 'ada'
): MlopsAPI.IAuditEntry {
  return { id, at: 1796180460 + id, actor, kind, target, action, detail };
}

function note(id: number, text: string, author = 'ada'): MlopsAPI.INote {
  return {
    id,
    kind: 'model_version',
    target: 'churn/7',
    author,
    created_at: 1796180000 + id,
    text
  };
}

beforeEach(() => jest.resetAllMocks());

describe('which audit entries are an item history', () => {
  it('asks the audit route for the run, the deployment, or the whole model', () => {
    expect(auditTarget({ kind: 'run', target: 'ab'.repeat(16) })).toBe(
      `run ${'ab'.repeat(16)}`
    );
    expect(auditTarget({ kind: 'deployment', target: '3' })).toBe(
      'deployment 3'
    );
    expect(auditTarget({ kind: 'model_version', target: 'churn/7' })).toBe(
      'churn'
    );
  });

  it('keeps a version its notes, the model entries and the alias moves to or from it', () => {
    const entries = [
      entry(6, 'alias', 'churn@production', 'move', {
        from_version: 7,
        to_version: 8
      }),
      entry(5, 'alias', 'churn@staging', 'set', {
        from_version: null,
        to_version: 6
      }),
      entry(4, 'note', 'churn/17', 'create'),
      entry(3, 'note', 'churn/7', 'create'),
      entry(2, 'model', 'churn', 'delete'),
      entry(1, 'alias', 'churn@production', 'set', {
        from_version: null,
        to_version: 7
      })
    ];
    const kept = historyOf(
      { kind: 'model_version', target: 'churn/7' },
      entries
    );
    expect(kept.map(e => e.id)).toEqual([6, 3, 2, 1]);
    // a run's or a deployment's trail is already only its own
    expect(historyOf({ kind: 'deployment', target: '3' }, entries)).toBe(
      entries
    );
  });
});

describe('an audit entry as a sentence', () => {
  it('says who moved which alias from which version to which, and why', () => {
    expect(
      describeEntry(
        entry(1, 'alias', 'churn@production', 'rollback', {
          from_version: 7,
          to_version: 6,
          reason: 'rollback from v7'
        })
      )
    ).toBe('ada rolled back churn@production v7 → v6 (rollback from v7)');
    expect(
      describeEntry(
        entry(
          2,
          'alias',
          'churn@staging',
          'delete',
          {
            from_version: 3,
            to_version: null,
            reason: null
          },
          'maria'
        )
      )
    ).toBe('maria removed churn@staging v3 → none');
  });

  it('names deployments, stops, notes and other kinds', () => {
    expect(
      describeEntry(
        entry(3, 'deployment', 'deployment 3', 'create', {
          model: 'churn',
          version: 7,
          alias: 'production',
          address: '127.0.0.1:8000'
        })
      )
    ).toBe('ada deployed churn/7 at 127.0.0.1:8000');
    expect(
      describeEntry(
        entry(4, 'deployment', 'deployment 3', 'stop', {
          reason: 'stopped by request'
        })
      )
    ).toBe('ada stopped deployment 3 (stopped by request)');
    expect(describeEntry(entry(5, 'note', 'churn/7', 'create'))).toBe(
      'ada added a note'
    );
    expect(describeEntry(entry(6, 'schedule', 'nightly', 'pause'))).toBe(
      'ada: pause schedule nightly'
    );
  });
});

describe('the note text', () => {
  it('is trimmed and refused when empty or too long, saying what to do', () => {
    expect(checkNoteText('  approved  ')).toBe('approved');
    expect(() => checkNoteText('   ')).toThrow(NoteTextError);
    expect(() => checkNoteText('x'.repeat(6001))).toThrow(
      /6001 characters; keep it under 6000/
    );
  });
});

describe('NotesModel', () => {
  const version = { kind: 'model_version' as const, target: 'churn/7' };

  it('loads the notes and the version history together', async () => {
    mocked.listNotes.mockResolvedValue([note(1, 'approved by risk', 'maria')]);
    mocked.listAudit.mockResolvedValue({
      entries: [
        entry(2, 'note', 'churn/7', 'create', null, 'maria'),
        entry(1, 'note', 'churn/8', 'create')
      ],
      next_before: null
    });
    const model = new NotesModel(version);
    const changes: number[] = [];
    model.onChange = () => changes.push(model.state.notes.length);
    await model.load();
    expect(mocked.listNotes).toHaveBeenCalledWith(version);
    expect(mocked.listAudit).toHaveBeenCalledWith({
      target: 'churn',
      limit: 50
    });
    expect(model.state.notes.map(n => [n.author, n.text])).toEqual([
      ['maria', 'approved by risk']
    ]);
    expect(model.state.history.map(e => e.id)).toEqual([2]);
    expect(model.state.loaded).toBe(true);
    expect(changes).toEqual([1]);
  });

  it('adds a trimmed note, then reloads so it shows with its author', async () => {
    mocked.createNote.mockResolvedValue(note(2, 'ship it'));
    mocked.listNotes.mockResolvedValue([note(1, 'first'), note(2, 'ship it')]);
    mocked.listAudit.mockResolvedValue({ entries: [], next_before: null });
    const model = new NotesModel(version);
    expect(await model.add('  ship it \n')).toBe(true);
    expect(mocked.createNote).toHaveBeenCalledWith({
      kind: 'model_version',
      target: 'churn/7',
      text: 'ship it'
    });
    expect(model.state.notes.map(n => n.text)).toEqual(['first', 'ship it']);
    expect(model.state.saving).toBe(false);
  });

  it('does not send an empty note and shows the server refusal', async () => {
    const model = new NotesModel(version);
    expect(await model.add('  ')).toBe(false);
    expect(mocked.createNote).not.toHaveBeenCalled();
    expect(model.state.error).toBe('Write the note first.');
    mocked.createNote.mockRejectedValue(
      new Error('The target names no model version')
    );
    expect(await model.add('approved')).toBe(false);
    expect(model.state.error).toBe('The target names no model version');
    expect(model.state.saving).toBe(false);
  });

  it('keeps the last lists and shows the error when a reload fails', async () => {
    mocked.listNotes.mockResolvedValueOnce([note(1, 'first')]);
    mocked.listAudit.mockResolvedValue({ entries: [], next_before: null });
    const model = new NotesModel(version);
    await model.load();
    mocked.listNotes.mockRejectedValueOnce(
      new Error('Cannot reach the Jupyter server')
    );
    await model.load();
    expect(model.state.notes.map(n => n.text)).toEqual(['first']);
    expect(model.state.error).toBe('Cannot reach the Jupyter server');
  });
});
