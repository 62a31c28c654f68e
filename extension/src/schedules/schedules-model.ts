/**
 * State of the Schedules view: the schedules with their next fire times and last outcome, the
 * open schedule's slot history, and the actions (create from a notebook, pause, resume, run
 * now, delete). Talks to the server only through src/api.ts (the jest tests mock it).
 */
import {
  MlopsAPI,
  createSchedule,
  deleteSchedule,
  getNotebookParameters,
  getScheduleHistory,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
  runScheduleNow
} from '../api';
import type { IParameterField, IScheduleFormValue } from './schedule-values';

/** Everything the Schedules view renders. */
export interface ISchedulesState {
  /** Schedules, by name. */
  schedules: MlopsAPI.ISchedule[];
  /** The open schedule (null: the list shows). */
  open: number | null;
  /** The open schedule's slots, newest first. */
  history: MlopsAPI.IScheduleSlot[];
  /** The last error message, if the last load failed. */
  error: string | null;
}

/** Epoch seconds as a short local date and time ("Tue 03:00", or with the date when not this week). */
export function formatFireTime(
  seconds: number,
  now = Date.now() / 1000
): string {
  const date = new Date(seconds * 1000);
  const time = date.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit'
  });
  if (Math.abs(seconds - now) < 6 * 86400) {
    return `${date.toLocaleDateString([], { weekday: 'short' })} ${time}`;
  }
  return `${date.toLocaleDateString()} ${time}`;
}

/** The outcome a schedule row shows: "finished", "failed", "never ran", "paused". */
export function lastOutcome(schedule: MlopsAPI.ISchedule): string {
  return schedule.last_status ?? 'never ran';
}

/** The request body of a filled-in form. */
export function createRequest(
  notebook: string,
  form: IScheduleFormValue
): MlopsAPI.ICreateScheduleRequest {
  const body: MlopsAPI.ICreateScheduleRequest = {
    notebook,
    cron: form.cron,
    retries: form.retries,
    catchup: form.catchup as MlopsAPI.CatchupPolicy
  };
  if (form.name) {
    body.name = form.name;
  }
  if (form.timezone) {
    body.timezone = form.timezone;
  }
  if (form.timeout !== null) {
    body.timeout = form.timeout;
  }
  if (Object.keys(form.parameters).length) {
    body.parameters = form.parameters;
  }
  return body;
}

/** The form fields of a notebook's parameters (literal defaults typed, others as text). */
export function parameterFields(
  answer: MlopsAPI.IDescribeNotebookParametersResponse
): IParameterField[] {
  return answer.parameters.map(p => ({
    name: p.name,
    type: p.literal ? p.type : 'any',
    default: p.literal ? p.default : p.source
  }));
}

/** The Schedules view's data. */
export class SchedulesModel {
  /** Called after every state change. */
  onChange: (() => void) | null = null;

  /** The current state. */
  get state(): ISchedulesState {
    return this.current;
  }

  /** Reload the list (and the open schedule's history); resolves true when something changed. */
  async refresh(): Promise<boolean> {
    const before = this.signature();
    try {
      const page = await listSchedules({ limit: 500 });
      const next: Partial<ISchedulesState> = {
        schedules: page.schedules,
        error: null
      };
      if (this.current.open !== null) {
        next.history = (await getScheduleHistory(this.current.open, 50)).slots;
      }
      this.set(next);
    } catch (error) {
      this.set({ error: (error as Error).message });
      throw error;
    }
    return this.signature() !== before;
  }

  /** Open a schedule's history (null: back to the list). */
  async openSchedule(id: number | null): Promise<void> {
    this.set({ open: id, history: [] });
    await this.refresh();
  }

  /** The form fields for a notebook (its parameters cell). */
  async fieldsFor(path: string): Promise<IParameterField[]> {
    return parameterFields(await getNotebookParameters(path));
  }

  /** Create a schedule from a filled-in form, then open it. */
  async create(
    notebook: string,
    form: IScheduleFormValue
  ): Promise<MlopsAPI.ISchedule> {
    const schedule = await createSchedule(createRequest(notebook, form));
    await this.openSchedule(schedule.id);
    return schedule;
  }

  /** Pause a schedule. */
  async pause(id: number): Promise<MlopsAPI.ISchedule> {
    const schedule = await pauseSchedule(id);
    await this.refresh();
    return schedule;
  }

  /** Resume a schedule. */
  async resume(id: number): Promise<MlopsAPI.ISchedule> {
    const schedule = await resumeSchedule(id);
    await this.refresh();
    return schedule;
  }

  /** Run a schedule's notebook now (a manual slot in its history). */
  async runNow(id: number): Promise<MlopsAPI.IRunScheduleNowResponse> {
    const answer = await runScheduleNow(id);
    await this.openSchedule(id);
    return answer;
  }

  /** Delete a schedule (its runs stay). */
  async remove(id: number): Promise<MlopsAPI.IDeleteScheduleResponse> {
    const answer = await deleteSchedule(id);
    if (this.current.open === id) {
      this.set({ open: null, history: [] });
    }
    await this.refresh();
    return answer;
  }

  private signature(): string {
    const s = this.current;
    return JSON.stringify([
      s.schedules.map(x => [
        x.id,
        x.paused,
        x.next_runs[0],
        x.last_status,
        x.last_run_id
      ]),
      s.history.map(h => [h.id, h.status, h.attempt, h.run_id])
    ]);
  }

  private set(patch: Partial<ISchedulesState>): void {
    this.current = { ...this.current, ...patch };
    this.onChange?.();
  }

  private current: ISchedulesState = {
    schedules: [],
    open: null,
    history: [],
    error: null
  };
}
