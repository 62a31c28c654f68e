/**
 * The diff between two of the compared runs: their tracked cells' source, line by line, and
 * the diff of their notebook versions (unchanged cells collapsed).
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { DiffLines, NotebookDiff } from '../versions/notebook-diff';
import type { IDiffRenderMime } from '../versions/output-view';
import { sourceDiff } from './compare-model';

/** Props of {@link RunDiff}. */
export interface IRunDiffProps {
  /** The runs, baseline first. */
  runs: MlopsAPI.IComparedRun[];
  /** Run id -> label. */
  labels: Record<string, string>;
  /** The two runs diffed. */
  pair: [string, string];
  /** Their notebook versions' diff, if both have one and they differ. */
  notebookDiff: MlopsAPI.IDiffNotebooksResponse | null;
  /** The server's message when their notebook diff could not be made. */
  notebookDiffError?: string | null;
  /** Diff two other runs. */
  onPair: (a: string, b: string) => void;
  /** The app's registry: the notebook diff renders outputs through it, untrusted. */
  rendermime?: IDiffRenderMime | null;
}

function RunSelect(props: {
  label: string;
  value: string;
  runs: MlopsAPI.IComparedRun[];
  labels: Record<string, string>;
  onChange: (id: string) => void;
}): JSX.Element {
  return (
    <select
      className="jp-mlops-select"
      aria-label={props.label}
      value={props.value}
      onChange={event => props.onChange(event.target.value)}
    >
      {props.runs.map(r => (
        <option key={r.id} value={r.id}>
          {props.labels[r.id]}
        </option>
      ))}
    </select>
  );
}

function versionNote(
  a?: MlopsAPI.IComparedRun,
  b?: MlopsAPI.IComparedRun
): string {
  const va = a?.notebook_version_id ?? null;
  const vb = b?.notebook_version_id ?? null;
  if (va === null || vb === null) {
    return 'One of the runs has no notebook version recorded.';
  }
  return va === vb ? `Both runs used the same notebook version (v${va}).` : '';
}

/** Pick two runs; see how their code differs. */
export function RunDiff(props: IRunDiffProps): JSX.Element {
  const [a, b] = props.pair;
  const runA = props.runs.find(r => r.id === a);
  const runB = props.runs.find(r => r.id === b);
  const hasSource = runA?.cell_source !== null && runB?.cell_source !== null;
  const lines = hasSource
    ? sourceDiff(runA?.cell_source ?? '', runB?.cell_source ?? '')
    : [];
  const same = lines.every(line => line.op === ' ');
  const note = versionNote(runA, runB);
  return (
    <div className="jp-mlops-run-diff">
      <div className="jp-mlops-toolbar">
        <RunSelect
          label="Older run"
          value={a}
          runs={props.runs}
          labels={props.labels}
          onChange={id => props.onPair(id, b)}
        />
        <span>→</span>
        <RunSelect
          label="Newer run"
          value={b}
          runs={props.runs}
          labels={props.labels}
          onChange={id => props.onPair(a, id)}
        />
      </div>
      <h4>Tracked cell</h4>
      {!hasSource ? (
        <p className="jp-mlops-muted">
          One of the runs was not a tracked cell.
        </p>
      ) : same ? (
        <p className="jp-mlops-muted">The same source.</p>
      ) : (
        <DiffLines lines={lines} />
      )}
      <h4>Notebook version</h4>
      {props.notebookDiff ? (
        <NotebookDiff
          diff={props.notebookDiff}
          sides={[runA!.notebook_version_id!, runB!.notebook_version_id!]}
          rendermime={props.rendermime}
        />
      ) : props.notebookDiffError && !note ? (
        <div className="jp-mlops-error" role="alert">
          The notebook diff could not be made: {props.notebookDiffError}
        </div>
      ) : (
        <p className="jp-mlops-muted">{note || 'Loading the diff…'}</p>
      )}
    </div>
  );
}
