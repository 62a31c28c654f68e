/**
 * Editing a run from its detail: the tags, and deleting the run (with its child runs); notes
 * are added in the detail's Notes section (src/notes/). Each change asks first in a
 * JupyterLab dialog and reports through a notification.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { MlopsAPI, deleteRun, updateRun } from '../api';
import { tagChanges, tagsText } from './run-edits-model';
import { runLabel } from './runs-model';

/** A dialog body with a text area; the dialog's value is the text. */
class TextAreaBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(value: string, label: string, placeholder: string) {
    super({ node: document.createElement('div') });
    this.addClass('jp-mlops-dialog-body');
    const caption = document.createElement('label');
    caption.textContent = label;
    this.area = document.createElement('textarea');
    this.area.className = 'jp-mlops-input jp-mlops-textarea';
    this.area.rows = 6;
    this.area.value = value;
    this.area.placeholder = placeholder;
    this.area.setAttribute('aria-label', label);
    caption.appendChild(this.area);
    this.node.appendChild(caption);
  }

  getValue(): string {
    return this.area.value;
  }

  private readonly area: HTMLTextAreaElement;
}

async function ask(title: string, body: TextAreaBody): Promise<string | null> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save' })]
  });
  return result.button.accept ? (result.value ?? '') : null;
}

/** Ask for the tags as `key=value` lines and save the difference. */
export async function editTags(
  run: MlopsAPI.IDescribeRunResponse
): Promise<boolean> {
  const text = await ask(
    `Tags of ${runLabel(run)}`,
    new TextAreaBody(
      tagsText(run.tags),
      'One tag a line, key=value (delete a line to remove the tag)',
      'team=vision'
    )
  );
  if (text === null) {
    return false;
  }
  try {
    const body = tagChanges(run.tags, text);
    if (!body) {
      return false;
    }
    await updateRun(run.id, body);
    const count =
      Object.keys(body.set_tags ?? {}).length + (body.remove_tags ?? []).length;
    Notification.success(
      `Updated ${count} tag${count > 1 ? 's' : ''} of ${runLabel(run)}`,
      { autoClose: 3000 }
    );
    return true;
  } catch (error) {
    Notification.error(`Could not save the tags: ${(error as Error).message}`);
    return false;
  }
}

/** Ask, then delete the run and its child runs; resolves true when deleted. */
export async function confirmDeleteRun(
  run: MlopsAPI.IDescribeRunResponse
): Promise<boolean> {
  const result = await showDialog({
    title: `Delete run ${runLabel(run)}?`,
    body:
      `The run ${run.id}, its metrics, artifacts and any child runs (a sweep's trials) ` +
      'are removed from the store. This cannot be undone.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
  });
  if (!result.button.accept) {
    return false;
  }
  try {
    const answer = await deleteRun(run.id);
    const n = answer.deleted.length;
    Notification.success(
      n > 1
        ? `Deleted ${runLabel(run)} and ${n - 1} child run${n > 2 ? 's' : ''}`
        : `Deleted ${runLabel(run)}`,
      { autoClose: 4000 }
    );
    return true;
  } catch (error) {
    Notification.error(
      `Could not delete ${runLabel(run)}: ${(error as Error).message}`
    );
    return false;
  }
}
