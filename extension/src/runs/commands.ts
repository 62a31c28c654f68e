/**
 * Palette commands of runs: edit a run's tags, add a note to it, delete it. Each acts on the
 * run given as `id`, else the run open in the panel, else one chosen from the page the runs
 * view shows; each asks in a JupyterLab dialog before it changes anything.
 */
import { InputDialog, Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { MlopsAPI, createNote, getRun } from '../api';
import { choose } from '../panel/dialogs';
import { panelCommandAdder } from '../panel/commands';
import type { MlopsPanel } from '../panel/side-panel';
import { CommandIDs } from '../tokens';
import { confirmDeleteRun, editTags } from './run-edits';
import { runLabel } from './runs-model';

/** The run a command acts on, fetched whole; null when the user chose none. */
async function runOf(
  panel: MlopsPanel,
  args: ReadonlyPartialJSONObject,
  title: string
): Promise<MlopsAPI.IDescribeRunResponse | null> {
  let id = typeof args.id === 'string' ? args.id : panel.shownRunId;
  if (!id) {
    const rows = panel.runs.state.rows;
    if (!rows.length) {
      Notification.info('No runs listed: open the MLOps panel on some runs.', {
        autoClose: 5000
      });
      return null;
    }
    const labels = rows.map(r => `${runLabel(r)} · ${r.id}`);
    const picked = await choose(title, 'Run', labels);
    id = picked ? rows[labels.indexOf(picked)].id : null;
  }
  return id ? getRun(id) : null;
}

async function editRunTags(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const run = await runOf(panel, args, 'Edit the tags of which run?');
  if (run && (await editTags(run))) {
    await panel.reloadShown();
  }
}

async function addRunNote(panel: MlopsPanel, args: ReadonlyPartialJSONObject) {
  const run = await runOf(panel, args, 'Add a note to which run?');
  if (!run) {
    return;
  }
  const answer = await InputDialog.getText({
    title: `Note on ${runLabel(run)}`,
    label: 'Note (shown in the run, its reports and model cards)',
    placeholder: 'Baseline for the Q3 review'
  });
  const text = answer.button.accept ? (answer.value ?? '').trim() : '';
  if (!text) {
    return;
  }
  await createNote({ kind: 'run', target: run.id, text });
  Notification.success(`Noted on ${runLabel(run)}`, { autoClose: 3000 });
  await panel.reloadShown();
}

async function deleteRunCommand(
  panel: MlopsPanel,
  args: ReadonlyPartialJSONObject
) {
  const run = await runOf(panel, args, 'Delete which run?');
  if (!run) {
    return;
  }
  if (run.status === 'running') {
    Notification.warning(
      `${runLabel(run)} is still running: stop it before deleting it.`,
      { autoClose: 5000 }
    );
    return;
  }
  if (await confirmDeleteRun(run)) {
    if (panel.shownRunId === run.id) {
      panel.closeRun();
    }
    await panel.reloadShown();
  }
}

/** Register the runs' commands. */
export function registerRunCommands(
  commands: CommandRegistry,
  panel: MlopsPanel
): void {
  const add = panelCommandAdder(commands, panel);
  add(CommandIDs.editRunTags, 'Edit a run’s tags', editRunTags);
  add(CommandIDs.addRunNote, 'Add a note to a run', addRunNote);
  add(CommandIDs.deleteRun, 'Delete a run', deleteRunCommand);
}
