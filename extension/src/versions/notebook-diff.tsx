/**
 * A readable cell-by-cell diff (nbdime's, shaped by the server): each aligned cell with its
 * status, a line diff of its source, and for each output that changed a line in words with
 * the output before and after, side by side, rendered as JupyterLab renders an untrusted
 * notebook (output-view.tsx); the cell's unchanged outputs fold into one line. A moved cell
 * says where it came from. Runs of unchanged cells fold into one line that opens on a click,
 * so the changes are what the eye lands on.
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { IDiffRenderMime, OutputView } from './output-view';
import { DiffSide } from './versions-model';

export { imageSource } from './output-image';

/** Props of {@link NotebookDiff}. */
export interface INotebookDiffProps {
  /** The diff. */
  diff: MlopsAPI.IDiffNotebooksResponse;
  /** Older and newer side. */
  sides: [DiffSide, DiffSide];
  /** Close the diff (no back button when omitted, as in a main-area tab). */
  onClose?: () => void;
  /**
   * The app's rendermime registry: outputs are rendered through it, untrusted (HTML
   * sanitized, no script run); without it each output shows its summary text.
   */
  rendermime?: IDiffRenderMime | null;
}

function sideLabel(side: DiffSide): string {
  return side === 'current' ? 'the notebook now' : `v${side}`;
}

/** Lines of a source diff, each marked kept, removed or added. */
export function DiffLines(props: { lines: MlopsAPI.IDiffLine[] }): JSX.Element {
  return (
    <pre className="jp-mlops-diff-source">
      {props.lines.map((line, i) => (
        <div
          key={i}
          className={
            line.op === '+'
              ? 'jp-mlops-line-added'
              : line.op === '-'
                ? 'jp-mlops-line-removed'
                : 'jp-mlops-line'
          }
        >
          {line.op} {line.text}
        </div>
      ))}
    </pre>
  );
}

/** Consecutive cells grouped: changed cells alone, unchanged ones together. */
export function foldUnchanged(
  cells: MlopsAPI.ICellDiff[]
): MlopsAPI.ICellDiff[][] {
  const groups: MlopsAPI.ICellDiff[][] = [];
  for (const cell of cells) {
    const last = groups[groups.length - 1];
    if (cell.status === 'unchanged' && last && last[0].status === 'unchanged') {
      last.push(cell);
    } else {
      groups.push([cell]);
    }
  }
  return groups;
}

/** One output change in words: "output 2 added (image/png)", "output 1 changed: text". */
export function describeOutputChange(change: MlopsAPI.IOutputChange): string {
  const index = (change.b_index ?? change.a_index ?? 0) + 1;
  const parts = change.parts.join(', ');
  if (change.op === 'changed') {
    return `output ${index} (${change.output_type}) changed: ${parts}`;
  }
  return `output ${index} (${change.output_type}) ${change.op}${parts ? ` (${parts})` : ''}`;
}

/**
 * One output change: its words, then the output before (left) and after (right). An added or
 * a removed cell has one side only, so its outputs are drawn once, as that side.
 */
function OutputChangeView(props: {
  cell: MlopsAPI.ICellDiff;
  change: MlopsAPI.IOutputChange;
  rendermime: IDiffRenderMime | null;
}): JSX.Element {
  const { cell, change, rendermime } = props;
  const before =
    change.a_index !== null ? (cell.outputs_a[change.a_index] ?? null) : null;
  const after =
    change.b_index !== null ? (cell.outputs_b[change.b_index] ?? null) : null;
  const images = change.images_a.length + change.images_b.length > 0;
  if (cell.status === 'added' || cell.status === 'removed') {
    return (
      <li>
        {describeOutputChange(change)}
        <div className="jp-mlops-diff-output-single">
          <OutputView
            summary={after ?? before}
            images={[...change.images_a, ...change.images_b]}
            side={cell.status}
            rendermime={rendermime}
          />
        </div>
      </li>
    );
  }
  return (
    <li>
      {describeOutputChange(change)}
      <div
        className={`jp-mlops-diff-output-pair${images ? ' jp-mlops-diff-image-pair' : ''}`}
      >
        <OutputView
          summary={before}
          images={change.images_a}
          side="before"
          rendermime={rendermime}
          labelled
        />
        <OutputView
          summary={after}
          images={change.images_b}
          side="after"
          rendermime={rendermime}
          labelled
        />
      </div>
    </li>
  );
}

/** The newer outputs no change names, folded into one line that opens on a click. */
function UnchangedOutputs(props: {
  cell: MlopsAPI.ICellDiff;
  rendermime: IDiffRenderMime | null;
}): JSX.Element | null {
  const { cell, rendermime } = props;
  const changed = new Set(cell.output_changes.map(c => c.b_index));
  const kept = cell.outputs_b.filter((_, j) => !changed.has(j));
  if (kept.length === 0) {
    return null;
  }
  return (
    <details className="jp-mlops-diff-folded-outputs">
      <summary className="jp-mlops-muted">
        {kept.length} unchanged output{kept.length > 1 ? 's' : ''}
      </summary>
      {kept.map((summary, i) => (
        <OutputView
          key={i}
          summary={summary}
          images={[]}
          side="unchanged"
          rendermime={rendermime}
        />
      ))}
    </details>
  );
}

/** The header line of a cell: what changed, and for a moved cell where it was. */
export function describeCell(cell: MlopsAPI.ICellDiff): string {
  const index = cell.b_index ?? cell.a_index;
  let text = `${cell.cell_type} cell ${index !== null ? index + 1 : ''}`;
  if (cell.status === 'moved' && cell.a_index !== null) {
    text += ` · was cell ${cell.a_index + 1}`;
  }
  const what = [
    cell.source_changed && 'source',
    cell.outputs_changed && 'outputs'
  ].filter(Boolean);
  if (what.length > 0) {
    text += ` · ${what.join(' and ')} changed`;
  }
  return text;
}

function CellDiff(props: {
  cell: MlopsAPI.ICellDiff;
  rendermime: IDiffRenderMime | null;
}): JSX.Element {
  const { cell, rendermime } = props;
  return (
    <div className={`jp-mlops-diff-cell jp-mlops-diff-${cell.status}`}>
      <div className="jp-mlops-diff-cell-header">
        <span className="jp-mlops-diff-badge">{cell.status}</span>
        <span className="jp-mlops-muted">{describeCell(cell)}</span>
      </div>
      <DiffLines lines={cell.source_diff} />
      {cell.output_changes.length > 0 && (
        <>
          <ul className="jp-mlops-diff-output-changes">
            {cell.output_changes.map((change, i) => (
              <OutputChangeView
                key={i}
                cell={cell}
                change={change}
                rendermime={rendermime}
              />
            ))}
          </ul>
          <UnchangedOutputs cell={cell} rendermime={rendermime} />
        </>
      )}
    </div>
  );
}

/** The whole diff with its summary line. */
export function NotebookDiff(props: INotebookDiffProps): JSX.Element {
  const { diff } = props;
  const rendermime = props.rendermime ?? null;
  const s = diff.summary;
  return (
    <div className="jp-mlops-diff">
      <div className="jp-mlops-detail-header">
        {props.onClose && (
          <button className="jp-mlops-button" onClick={props.onClose}>
            ← Versions
          </button>
        )}
        <h3 className="jp-mlops-detail-title">
          {sideLabel(props.sides[0])} → {sideLabel(props.sides[1])}
        </h3>
      </div>
      <p className="jp-mlops-diff-summary">
        {s.changed} changed · {s.added} added · {s.removed} removed · {s.moved}{' '}
        moved · {s.unchanged} unchanged
      </p>
      {foldUnchanged(diff.cells).map((group, i) =>
        group[0].status === 'unchanged' ? (
          <details key={i} className="jp-mlops-diff-folded">
            <summary className="jp-mlops-muted">
              {group.length} unchanged cell{group.length > 1 ? 's' : ''}
            </summary>
            {group.map((cell, j) => (
              <CellDiff key={j} cell={cell} rendermime={rendermime} />
            ))}
          </details>
        ) : (
          <CellDiff key={i} cell={group[0]} rendermime={rendermime} />
        )
      )}
    </div>
  );
}
