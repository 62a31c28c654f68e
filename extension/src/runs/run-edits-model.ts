/**
 * The data side of editing a run: its user tags as editable text (`key=value` a line), the
 * `updateRun` body a new text amounts to, and the note. Tags under `mlops.` are the tracker's
 * own (the server refuses to change them), so the editor neither shows nor sends them.
 */
import { MlopsAPI } from '../api';

/** The tag that holds a run's note (core/names.py Tags.NOTE). */
export const NOTE_TAG = 'mlops.note';

/** Raised when the tags text has a line that is not `key=value`. */
export class TagSyntaxError extends Error {}

/** Whether a tag is the user's to edit. */
export function isUserTag(key: string): boolean {
  return !key.startsWith('mlops.');
}

/** A run's user tags as `key=value` lines, sorted. */
export function tagsText(tags: Record<string, string>): string {
  return Object.keys(tags)
    .filter(isUserTag)
    .sort()
    .map(key => `${key}=${tags[key]}`)
    .join('\n');
}

/** Parse `key=value` lines (blank lines skipped); the first `=` splits key from value. */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) {
      return;
    }
    const at = line.indexOf('=');
    const key = at > 0 ? line.slice(0, at).trim() : '';
    if (!key) {
      throw new TagSyntaxError(
        `Line ${i + 1} ("${line.slice(0, 40)}") is not key=value: write one tag a line, e.g. team=vision.`
      );
    }
    if (!isUserTag(key)) {
      throw new TagSyntaxError(
        `Line ${i + 1}: tags starting with "mlops." belong to the tracker; choose another key.`
      );
    }
    tags[key] = line.slice(at + 1).trim();
  });
  return tags;
}

/** The `updateRun` body that turns the run's user tags into the edited ones (null: no change). */
export function tagChanges(
  before: Record<string, string>,
  text: string
): MlopsAPI.IUpdateRunRequest | null {
  const after = parseTags(text);
  const set: Record<string, string> = {};
  for (const [key, value] of Object.entries(after)) {
    if (before[key] !== value) {
      set[key] = value;
    }
  }
  const remove = Object.keys(before).filter(k => isUserTag(k) && !(k in after));
  if (!Object.keys(set).length && !remove.length) {
    return null;
  }
  const body: MlopsAPI.IUpdateRunRequest = {};
  if (Object.keys(set).length) {
    body.set_tags = set;
  }
  if (remove.length) {
    body.remove_tags = remove.sort();
  }
  return body;
}
