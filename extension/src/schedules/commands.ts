/**
 * Palette commands of schedules: schedule the active notebook (a form from its parameters
 * cell), pause, resume, run now, delete; and opening a slot's executed notebook.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Contents } from '@jupyterlab/services';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { getArtifactBlob, listSchedules } from '../api';
import { choose, confirm } from '../panel/dialogs';
import { panelCommandAdder } from '../panel/commands';
import type { MlopsPanel } from '../panel/side-panel';
import { CommandIDs } from '../tokens';
import { ScheduleForm } from './schedule-form';
import { formatFireTime } from './schedules-model';

/** Folder (under the Jupyter root) where opened output notebooks are copied. */
export const OUTPUTS_FOLDER = 'mlops-outputs';

async function scheduleOf(
  panel: MlopsPanel,
  args: ReadonlyPartialJSONObject,
  title: string
) {
  if (typeof args.id === 'number') {
    return (
      panel.schedules.state.schedules.find(s => s.id === args.id) ?? {
        id: args.id,
        name: `#${args.id}`
      }
    );
  }
  if (panel.schedules.state.open !== null) {
    const open = panel.schedules.state.open;
    return panel.schedules.state.schedules.find(s => s.id === open) ?? null;
  }
  const page = await listSchedules({ limit: 500 });
  const name = await choose(
    title,
    'Schedule',
    page.schedules.map(s => s.name)
  );
  return page.schedules.find(s => s.name === name) ?? null;
}

async function scheduleNotebook(
  panel: MlopsPanel,
  args: ReadonlyPartialJSONObject
) {
  const path = (args.path as string | undefined) || panel.notebookPath;
  if (!path) {
    Notification.warning(
      'Open a notebook first: the schedule runs the active notebook.',
      {
        autoClose: 5000
      }
    );
    return;
  }
  const fields = await panel.schedules.fieldsFor(path);
  for (;;) {
    const form = new ScheduleForm(path, fields);
    const result = await showDialog({
      title: `Schedule ${path.split('/').pop()}`,
      body: form,
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: 'Create schedule' })
      ],
      focusNodeSelector: 'input'
    });
    if (!result.button.accept || !result.value) {
      return;
    }
    const value = result.value;
    if (value.errors.length) {
      Notification.error(value.errors.join(' '), { autoClose: 8000 });
      continue; // The form opens again so the user can fix it.
    }
    panel.showTab('schedules');
    try {
      const schedule = await panel.schedules.create(path, value);
      const next = schedule.next_runs.length
        ? formatFireTime(schedule.next_runs[0])
        : 'never';
      Notification.success(
        `Scheduled ${schedule.name} (${schedule.cron}); next run ${next}.`,
        {
          autoClose: 6000
        }
      );
      return;
    } catch (error) {
      Notification.error(
        `Could not schedule ${path}: ${(error as Error).message}`,
        {
          autoClose: 10000
        }
      );
    }
  }
}

async function pause(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const s = await scheduleOf(panel, args, 'Pause which schedule?');
  if (s) {
    await panel.schedules.pause(s.id);
    Notification.success(`Paused ${s.name}: it fires no more until resumed.`, {
      autoClose: 4000
    });
  }
}

async function resume(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const s = await scheduleOf(panel, args, 'Resume which schedule?');
  if (s) {
    const schedule = await panel.schedules.resume(s.id);
    const next = schedule.next_runs.length
      ? formatFireTime(schedule.next_runs[0])
      : 'never';
    Notification.success(`Resumed ${s.name}; next run ${next}.`, {
      autoClose: 4000
    });
  }
}

async function runNow(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const s = await scheduleOf(panel, args, 'Run which schedule now?');
  if (!s) {
    return;
  }
  const ok = await confirm(
    `Run ${s.name} now?`,
    'This executes the notebook once now, with the schedule’s parameters, as a tracked run.',
    'Run now'
  );
  if (ok) {
    panel.showTab('schedules');
    await panel.schedules.runNow(s.id);
    Notification.info(
      `${s.name} is running; its run shows in the history and the Runs view.`,
      {
        autoClose: 5000
      }
    );
  }
}

async function remove(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const s = await scheduleOf(panel, args, 'Delete which schedule?');
  if (!s) {
    return;
  }
  const ok = await confirm(
    `Delete ${s.name}?`,
    'The schedule and its slot history go; the runs it made stay.',
    'Delete',
    true
  );
  if (ok) {
    await panel.schedules.remove(s.id);
    Notification.success(`Deleted ${s.name}.`, { autoClose: 4000 });
  }
}

/**
 * Copy a scheduled run's executed notebook (an artifact of the run) into the Jupyter root and
 * open it, so it can be read with its outputs like any notebook.
 */
export async function openOutputNotebook(
  contents: Contents.IManager,
  open: (path: string) => void,
  runId: string,
  artifact: string
): Promise<void> {
  try {
    const blob = await getArtifactBlob(runId, artifact);
    const content = JSON.parse(await blob.text());
    const stem = (artifact.split('/').pop() ?? 'output.ipynb').replace(
      /\.ipynb$/,
      ''
    );
    const path = `${OUTPUTS_FOLDER}/${stem}-${runId.slice(0, 8)}.ipynb`;
    await contents
      .get(OUTPUTS_FOLDER, { content: false })
      .catch(() => contents.save(OUTPUTS_FOLDER, { type: 'directory' }));
    await contents.save(path, { type: 'notebook', format: 'json', content });
    open(path);
  } catch (error) {
    Notification.error(
      `Could not open the output notebook: ${(error as Error).message}`,
      {
        autoClose: 8000
      }
    );
  }
}

/** Register the schedules' commands. */
export function registerScheduleCommands(
  commands: CommandRegistry,
  panel: MlopsPanel
): void {
  const add = panelCommandAdder(commands, panel);
  add(CommandIDs.scheduleNotebook, 'Schedule this notebook', scheduleNotebook);
  add(CommandIDs.pauseSchedule, 'Pause a schedule', pause);
  add(CommandIDs.resumeSchedule, 'Resume a schedule', resume);
  add(CommandIDs.runScheduleNow, 'Run a schedule now', runNow);
  add(CommandIDs.deleteSchedule, 'Delete a schedule', remove);
}
