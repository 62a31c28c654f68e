import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  HistoryModel,
  NoteTextError,
  NotesModel,
  auditQuery,
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
    ).toBe('maria removed churn@staging (was v3)');
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
    expect(describeEntry(entry(6, 'model', 'churn/7', 'tag'))).toBe(
      'ada: tag model churn/7'
    );
  });

  it('says who created, edited, paused, resumed and deleted a schedule', () => {
    expect(
      describeEntry(
        entry(1, 'schedule', 'nightly', 'create', {
          notebook: '/home/ada/train.ipynb',
          cron: '0 3 * * *',
          timezone: 'Europe/Paris'
        })
      )
    ).toBe('ada created schedule nightly: 0 3 * * * (Europe/Paris)');
    expect(
      describeEntry(
        entry(2, 'schedule', 'nightly', 'update', {
          notebook: '/home/ada/train.ipynb',
          cron: '0 4 * * *'
        })
      )
    ).toBe('ada edited schedule nightly: 0 4 * * *');
    expect(
      describeEntry(entry(3, 'schedule', 'nightly', 'pause', null, 'maria'))
    ).toBe('maria paused schedule nightly');
    expect(describeEntry(entry(4, 'schedule', 'nightly', 'resume'))).toBe(
      'ada resumed schedule nightly'
    );
    expect(
      describeEntry(
        entry(5, 'schedule', 'nightly', 'delete', { notebook: '/t.ipynb' })
      )
    ).toBe('ada deleted schedule nightly');
  });

  it('says who created and changed an alert rule, with its model and conditions', () => {
    expect(
      describeEntry(
        entry(1, 'alert', 'drift-watch', 'create', {
          model: 'churn@production',
          conditions: ['drift.share > 0.3', 'errors.rate > 0.05']
        })
      )
    ).toBe(
      'ada created alert drift-watch on churn@production: drift.share > 0.3 or errors.rate > 0.05'
    );
    expect(
      describeEntry(entry(2, 'alert', 'drift-watch', 'pause', null, 'maria'))
    ).toBe('maria paused alert drift-watch');
    expect(describeEntry(entry(3, 'alert', 'drift-watch', 'resume'))).toBe(
      'ada resumed alert drift-watch'
    );
    expect(
      describeEntry(
        entry(4, 'alert', 'drift-watch', 'delete', {
          model: 'churn@production'
        })
      )
    ).toBe('ada deleted alert drift-watch');
  });
});

describe("a schedule's or an alert rule's history", () => {
  it('asks the audit route for the name with its kind', () => {
    expect(auditQuery({ kind: 'schedule', target: 'nightly' })).toEqual({
      kind: 'schedule',
      target: 'nightly',
      limit: 50
    });
    expect(auditQuery({ kind: 'alert', target: 'drift-watch' })).toEqual({
      kind: 'alert',
      target: 'drift-watch',
      limit: 50
    });
    // the items that take notes ask without a kind (a version's trail spans several kinds)
    expect(auditQuery({ kind: 'model_version', target: 'churn/7' })).toEqual({
      target: 'churn',
      limit: 50
    });
  });

  it('keeps its exact name only, back to its newest creation', () => {
    const entries = [
      entry(9, 'schedule', 'nightly', 'pause', null, 'ada'),
      entry(8, 'schedule', 'nightly/extra', 'pause'),
      entry(7, 'alert', 'nightly', 'pause'),
      entry(6, 'schedule', 'nightly', 'pause', null, 'os-user'),
      entry(5, 'schedule', 'nightly', 'create', { cron: '0 3 * * *' }),
      entry(4, 'schedule', 'nightly', 'delete'),
      entry(3, 'schedule', 'nightly', 'create', { cron: '0 1 * * *' })
    ];
    const kept = historyOf({ kind: 'schedule', target: 'nightly' }, entries);
    expect(kept.map(e => [e.id, e.actor, e.action])).toEqual([
      [9, 'ada', 'pause'],
      [6, 'os-user', 'pause'],
      [5, 'ada', 'create']
    ]);
    // a rule just deleted (the panel still shows it) keeps its deletion on top
    const rule = historyOf({ kind: 'alert', target: 'nightly' }, [
      entry(3, 'alert', 'nightly', 'delete'),
      entry(2, 'alert', 'nightly', 'pause'),
      entry(1, 'alert', 'nightly', 'create')
    ]);
    expect(rule.map(e => e.action)).toEqual(['delete', 'pause', 'create']);
  });
});

describe('HistoryModel', () => {
  const schedule = { kind: 'schedule' as const, target: 'nightly' };

  it('loads the schedule changes only, and never asks for notes', async () => {
    mocked.listAudit.mockResolvedValue({
      entries: [
        entry(3, 'schedule', 'nightly', 'pause', null, 'ada'),
        entry(2, 'schedule', 'nightly', 'pause', null, 'maria'),
        entry(1, 'schedule', 'nightly', 'create', { cron: '0 3 * * *' })
      ],
      next_before: null
    });
    const model = new HistoryModel(schedule);
    let redraws = 0;
    model.onChange = () => (redraws += 1);
    await model.load();
    expect(mocked.listAudit).toHaveBeenCalledWith({
      kind: 'schedule',
      target: 'nightly',
      limit: 50
    });
    expect(mocked.listNotes).not.toHaveBeenCalled();
    expect(model.state.history.map(e => describeEntry(e))).toEqual([
      'ada paused schedule nightly',
      'maria paused schedule nightly',
      'ada created schedule nightly: 0 3 * * *'
    ]);
    expect(model.state.loaded).toBe(true);
    expect(redraws).toBe(1);
  });

  it('keeps the last list and shows the error when a reload fails', async () => {
    mocked.listAudit.mockResolvedValueOnce({
      entries: [entry(1, 'alert', 'drift-watch', 'create')],
      next_before: null
    });
    const model = new HistoryModel({ kind: 'alert', target: 'drift-watch' });
    await model.load();
    mocked.listAudit.mockRejectedValueOnce(
      new Error('Cannot reach the Jupyter server')
    );
    await model.load();
    expect(model.state.history.map(e => e.id)).toEqual([1]);
    expect(model.state.error).toBe('Cannot reach the Jupyter server');
  });

  it('shows the latest reload when an older one answers last', async () => {
    let answerFirst: (page: MlopsAPI.IListAuditResponse) => void = () =>
      undefined;
    mocked.listAudit
      .mockImplementationOnce(
        () =>
          new Promise(resolve => {
            answerFirst = resolve;
          })
      )
      .mockResolvedValueOnce({
        entries: [
          entry(2, 'schedule', 'nightly', 'pause'),
          entry(1, 'schedule', 'nightly', 'create')
        ],
        next_before: null
      });
    const model = new HistoryModel(schedule);
    const first = model.load();
    await model.load();
    answerFirst({
      entries: [entry(1, 'schedule', 'nightly', 'create')],
      next_before: null
    });
    await first;
    expect(model.state.history.map(e => e.id)).toEqual([2, 1]);
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
