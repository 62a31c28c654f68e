import * as api from '../api';
import type { MlopsAPI } from '../api';
import {
  IParameterField,
  IScheduleFormValue,
  collectParameters,
  fieldText,
  parseField
} from '../schedules/schedule-values';
import {
  SchedulesModel,
  createRequest,
  lastOutcome,
  parameterFields
} from '../schedules/schedules-model';

jest.mock('../api', () => ({
  listSchedules: jest.fn(),
  createSchedule: jest.fn(),
  getNotebookParameters: jest.fn(),
  getScheduleHistory: jest.fn(),
  pauseSchedule: jest.fn(),
  resumeSchedule: jest.fn(),
  runScheduleNow: jest.fn(),
  deleteSchedule: jest.fn()
}));

const mocked = api as jest.Mocked<typeof api>;

function schedule(
  id: number,
  patch: Partial<MlopsAPI.ISchedule> = {}
): MlopsAPI.ISchedule {
  return {
    id,
    name: `s${id}`,
    notebook_path: '/root/train.ipynb',
    jupyter_path: 'train.ipynb',
    cron: '0 3 * * *',
    timezone: 'UTC',
    parameters: {},
    experiment: null,
    timeout: null,
    retries: 0,
    retry_delay: 60,
    catchup: 'latest',
    paused: false,
    created_at: 1000,
    next_runs: [2000, 3000, 4000],
    last_slot_time: null,
    last_status: null,
    last_run_id: null,
    ...patch
  };
}

function slot(
  id: number,
  status: string,
  runId: string | null
): MlopsAPI.IScheduleSlot {
  return {
    id,
    slot_time: 1500,
    trigger: 'manual',
    status,
    attempt: 1,
    run_id: runId,
    error: null,
    output_artifact: runId ? 'output.ipynb' : null,
    attempts: []
  };
}

const fields: IParameterField[] = [
  { name: 'C', type: 'float', default: 1.0 },
  { name: 'epochs', type: 'int', default: 10 },
  { name: 'scale', type: 'bool', default: true },
  { name: 'solver', type: 'str', default: 'lbfgs' },
  { name: 'layers', type: 'list', default: [64, 32] },
  { name: 'seed', type: 'any', default: 'np.random.randint(9)' }
];

function form(patch: Partial<IScheduleFormValue> = {}): IScheduleFormValue {
  return {
    name: '',
    cron: '0 3 * * *',
    timezone: '',
    parameters: {},
    timeout: null,
    retries: 0,
    catchup: 'latest',
    errors: [],
    ...patch
  };
}

beforeEach(() => {
  jest.resetAllMocks();
  mocked.listSchedules.mockResolvedValue({
    schedules: [schedule(1), schedule(2, { paused: true, next_runs: [] })],
    total: 2,
    limit: 500,
    offset: 0
  });
  mocked.getScheduleHistory.mockResolvedValue({
    schedule_id: 1,
    name: 's1',
    slots: []
  });
});

describe('the schedule form values', () => {
  it('fills each field with its default as written', () => {
    expect(fields.map(fieldText)).toEqual([
      '1',
      '10',
      'true',
      'lbfgs',
      '[64,32]',
      'np.random.randint(9)'
    ]);
  });

  it('reads typed text as the parameter type, naming the parameter when it cannot', () => {
    expect(parseField(fields[0], '0.01')).toEqual({ value: 0.01 });
    expect(parseField(fields[0], 'small').error).toBe(
      'C expects a number, such as 0.1.'
    );
    expect(parseField(fields[1], '20')).toEqual({ value: 20 });
    expect(parseField(fields[1], '2.5').error).toBe(
      'epochs expects a whole number, such as 10.'
    );
    expect(parseField(fields[2], 'false')).toEqual({ value: false });
    expect(parseField(fields[3], ' newton ')).toEqual({ value: ' newton ' });
    expect(parseField(fields[4], '[8]')).toEqual({ value: [8] });
    expect(parseField(fields[4], '[8').error).toMatch(
      /layers expects a list written as JSON/
    );
    expect(parseField(fields[5], ' 3 ')).toEqual({ value: '3' });
  });

  it('sends only the parameters changed from their defaults', () => {
    expect(
      collectParameters(fields, { C: '1', epochs: '20', scale: 'false' })
    ).toEqual({
      parameters: { epochs: 20, scale: false },
      errors: []
    });
    expect(collectParameters(fields, { epochs: 'ten' }).errors).toEqual([
      'epochs expects a whole number, such as 10.'
    ]);
  });

  it('builds the create request from the form, leaving out what was not given', () => {
    expect(createRequest('train.ipynb', form())).toEqual({
      notebook: 'train.ipynb',
      cron: '0 3 * * *',
      retries: 0,
      catchup: 'latest'
    });
    expect(
      createRequest(
        'train.ipynb',
        form({
          name: 'nightly',
          timezone: 'Europe/Berlin',
          timeout: 600,
          retries: 2,
          catchup: 'none',
          parameters: { C: 0.1 }
        })
      )
    ).toEqual({
      notebook: 'train.ipynb',
      cron: '0 3 * * *',
      name: 'nightly',
      timezone: 'Europe/Berlin',
      timeout: 600,
      retries: 2,
      catchup: 'none',
      parameters: { C: 0.1 }
    });
  });

  it('types literal defaults, and shows other defaults as their source', () => {
    const answer: MlopsAPI.IDescribeNotebookParametersResponse = {
      path: 'train.ipynb',
      has_parameters_cell: true,
      parameters: [
        {
          name: 'C',
          type: 'float',
          default: 0.1,
          source: '0.1',
          literal: true
        },
        {
          name: 'seed',
          type: 'any',
          default: null,
          source: 'random_seed()',
          literal: false
        }
      ]
    };
    expect(parameterFields(answer)).toEqual([
      { name: 'C', type: 'float', default: 0.1 },
      { name: 'seed', type: 'any', default: 'random_seed()' }
    ]);
  });
});

describe('SchedulesModel', () => {
  it('lists schedules with their last outcome, and opens one with its history', async () => {
    const m = new SchedulesModel();
    expect(await m.refresh()).toBe(true);
    expect(m.state.schedules.map(lastOutcome)).toEqual([
      'never ran',
      'never ran'
    ]);
    expect(mocked.getScheduleHistory).not.toHaveBeenCalled();
    mocked.getScheduleHistory.mockResolvedValue({
      schedule_id: 1,
      name: 's1',
      slots: [slot(5, 'finished', 'a'.repeat(32))]
    });
    await m.openSchedule(1);
    expect(mocked.getScheduleHistory).toHaveBeenCalledWith(1, 50);
    expect(m.state.history[0].run_id).toBe('a'.repeat(32));
    expect(await m.refresh()).toBe(false);
  });

  it('notices a slot that ends', async () => {
    const m = new SchedulesModel();
    mocked.getScheduleHistory.mockResolvedValue({
      schedule_id: 1,
      name: 's1',
      slots: [slot(5, 'running', null)]
    });
    await m.openSchedule(1);
    mocked.getScheduleHistory.mockResolvedValue({
      schedule_id: 1,
      name: 's1',
      slots: [slot(5, 'finished', 'b'.repeat(32))]
    });
    expect(await m.refresh()).toBe(true);
  });

  it('creates a schedule from the form and opens it', async () => {
    mocked.createSchedule.mockResolvedValue(schedule(3));
    const m = new SchedulesModel();
    const created = await m.create(
      'train.ipynb',
      form({ parameters: { C: 0.5 } })
    );
    expect(created.id).toBe(3);
    expect(mocked.createSchedule).toHaveBeenCalledWith({
      notebook: 'train.ipynb',
      cron: '0 3 * * *',
      retries: 0,
      catchup: 'latest',
      parameters: { C: 0.5 }
    });
    expect(m.state.open).toBe(3);
  });

  it('pauses, resumes, runs now and deletes', async () => {
    mocked.pauseSchedule.mockResolvedValue(schedule(1, { paused: true }));
    mocked.resumeSchedule.mockResolvedValue(schedule(1));
    mocked.runScheduleNow.mockResolvedValue({
      schedule_id: 1,
      name: 's1',
      requested_at: 5
    });
    mocked.deleteSchedule.mockResolvedValue({ schedule_id: 1, name: 's1' });
    const m = new SchedulesModel();
    expect((await m.pause(1)).paused).toBe(true);
    expect((await m.resume(1)).paused).toBe(false);
    await m.runNow(1);
    expect(mocked.runScheduleNow).toHaveBeenCalledWith(1);
    expect(m.state.open).toBe(1);
    await m.remove(1);
    expect(mocked.deleteSchedule).toHaveBeenCalledWith(1);
    expect(m.state.open).toBeNull();
  });

  it('asks the server for the notebook parameters of the form', async () => {
    mocked.getNotebookParameters.mockResolvedValue({
      path: 'train.ipynb',
      has_parameters_cell: false,
      parameters: []
    });
    expect(await new SchedulesModel().fieldsFor('train.ipynb')).toEqual([]);
    expect(mocked.getNotebookParameters).toHaveBeenCalledWith('train.ipynb');
  });
});
