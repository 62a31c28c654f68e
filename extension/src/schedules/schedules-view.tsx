/**
 * The Schedules view: each schedule with its next fire and last outcome, "Schedule this
 * notebook", and the open schedule's history, whose rows open the run or the output notebook,
 * and its Changes: who created, paused, resumed or edited it, and when (the audit trail).
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { HistorySection } from '../notes/notes-section';
import { EmptyState } from '../panel/empty-state';
import type { ExecuteCommand } from '../panel/view-props';
import { CommandIDs } from '../tokens';
import { SchedulesModel, formatFireTime, lastOutcome } from './schedules-model';

/** Props of {@link SchedulesView}. */
export interface ISchedulesViewProps {
  /** The view's data. */
  model: SchedulesModel;
  /** The active notebook (Jupyter path), null when none. */
  notebookPath: string | null;
  /** Run a palette command. */
  execute: ExecuteCommand;
  /** Open a run in the runs view. */
  onOpenRun: (runId: string) => void;
  /** Open a slot's executed notebook. */
  onOpenOutput: (runId: string, artifact: string) => void;
}

function Buttons(props: {
  schedule: MlopsAPI.ISchedule;
  execute: ExecuteCommand;
}) {
  const { schedule, execute } = props;
  const args = { id: schedule.id };
  return (
    <div className="jp-mlops-actions">
      {schedule.paused ? (
        <button
          className="jp-mlops-button"
          onClick={() => execute(CommandIDs.resumeSchedule, args)}
        >
          Resume
        </button>
      ) : (
        <button
          className="jp-mlops-button"
          onClick={() => execute(CommandIDs.pauseSchedule, args)}
        >
          Pause
        </button>
      )}
      <button
        className="jp-mlops-button"
        onClick={() => execute(CommandIDs.runScheduleNow, args)}
      >
        Run now
      </button>
      <button
        className="jp-mlops-button"
        onClick={() => execute(CommandIDs.deleteSchedule, args)}
      >
        Delete
      </button>
    </div>
  );
}

function History(
  props: ISchedulesViewProps & { schedule: MlopsAPI.ISchedule }
) {
  const { schedule, model } = props;
  const { history } = model.state;
  return (
    <div
      className="jp-mlops-detail jp-mlops-schedule-detail"
      data-schedule={schedule.id}
    >
      <div className="jp-mlops-detail-header">
        <button
          className="jp-mlops-button"
          onClick={() => void model.openSchedule(null).catch(() => undefined)}
        >
          ← Schedules
        </button>
        <span className="jp-mlops-detail-title">{schedule.name}</span>
      </div>
      <table className="jp-mlops-kv">
        <tbody>
          <tr>
            <th>Notebook</th>
            <td>{schedule.jupyter_path ?? schedule.notebook_path}</td>
          </tr>
          <tr>
            <th>When</th>
            <td>
              <code>{schedule.cron}</code> ({schedule.timezone})
              {schedule.paused ? ' · paused' : ''}
            </td>
          </tr>
          <tr>
            <th>Next</th>
            <td>
              {schedule.next_runs.map(t => formatFireTime(t)).join(', ') || '—'}
            </td>
          </tr>
          <tr>
            <th>Parameters</th>
            <td>
              {Object.entries(schedule.parameters)
                .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                .join(', ') || 'defaults'}
            </td>
          </tr>
        </tbody>
      </table>
      <Buttons schedule={schedule} execute={props.execute} />
      <h4>History</h4>
      {history.length === 0 ? (
        <p className="jp-mlops-muted">No slot has fired yet.</p>
      ) : (
        <div className="jp-mlops-table-scroll">
          <table className="jp-mlops-table jp-mlops-schedule-history">
            <thead>
              <tr>
                <th>Slot</th>
                <th>Trigger</th>
                <th>Try</th>
                <th>Status</th>
                <th>Run</th>
                <th>Output</th>
              </tr>
            </thead>
            <tbody>
              {history.map(slot => (
                <tr
                  key={slot.id}
                  className="jp-mlops-slot"
                  data-status={slot.status}
                >
                  <td>{formatFireTime(slot.slot_time)}</td>
                  <td>{slot.trigger}</td>
                  <td>{slot.attempt}</td>
                  <td title={slot.error ?? ''}>
                    <span
                      className={`jp-mlops-status jp-mlops-status-${slot.status}`}
                    >
                      {slot.status}
                    </span>
                  </td>
                  <td>
                    {slot.run_id && (
                      <button
                        className="jp-mlops-link"
                        onClick={() => props.onOpenRun(slot.run_id!)}
                      >
                        {slot.run_id.slice(0, 8)}
                      </button>
                    )}
                  </td>
                  <td>
                    {slot.run_id && slot.output_artifact && (
                      <button
                        className="jp-mlops-link"
                        title="Open the executed notebook"
                        onClick={() =>
                          props.onOpenOutput(
                            slot.run_id!,
                            slot.output_artifact!
                          )
                        }
                      >
                        notebook
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <HistorySection
        kind="schedule"
        target={schedule.name}
        reloadOn={model.state.schedules}
      />
    </div>
  );
}

/** The whole Schedules view. */
export function SchedulesView(props: ISchedulesViewProps): JSX.Element {
  const { model, notebookPath } = props;
  const state = model.state;
  const open = state.schedules.find(s => s.id === state.open) ?? null;
  return (
    <>
      {state.error && <div className="jp-mlops-error">{state.error}</div>}
      {open ? (
        <History {...props} schedule={open} />
      ) : (
        <>
          <div className="jp-mlops-toolbar">
            <button
              className="jp-mlops-button jp-mlops-primary"
              disabled={!notebookPath}
              title={
                notebookPath
                  ? `Schedule ${notebookPath}`
                  : 'Open a notebook first'
              }
              onClick={() =>
                props.execute(CommandIDs.scheduleNotebook, {
                  path: notebookPath ?? ''
                })
              }
            >
              Schedule this notebook
            </button>
          </div>
          {state.schedules.length === 0 && !state.error ? (
            <EmptyState
              title="No schedules yet"
              hint="Schedule the active notebook here, or with mlops schedule add train.ipynb --cron '0 3 * * *'."
            />
          ) : (
            <ul className="jp-mlops-list" aria-label="Schedules">
              {state.schedules.map(s => (
                <li
                  key={s.id}
                  className="jp-mlops-item jp-mlops-schedule"
                  data-schedule={s.id}
                  tabIndex={0}
                  onClick={() =>
                    void model.openSchedule(s.id).catch(() => undefined)
                  }
                  onKeyDown={e =>
                    e.key === 'Enter' &&
                    void model.openSchedule(s.id).catch(() => undefined)
                  }
                >
                  <div className="jp-mlops-item-title">
                    {s.name}
                    {s.paused && <span className="jp-mlops-chip">paused</span>}
                  </div>
                  <div className="jp-mlops-item-meta">
                    <code>{s.cron}</code> · next{' '}
                    {s.next_runs.length ? formatFireTime(s.next_runs[0]) : '—'}{' '}
                    · last:{' '}
                    <span className="jp-mlops-last-outcome">
                      {lastOutcome(s)}
                    </span>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </>
  );
}
