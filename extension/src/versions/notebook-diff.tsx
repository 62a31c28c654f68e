/**
 * A readable cell-by-cell diff (nbdime's, shaped by the server): each aligned cell with its
 * status, a line diff of its source, a line saying which outputs changed (with its images
 * before and after, side by side), and its outputs' text before and after. A moved cell says where it came from. Runs of unchanged cells fold into
 * one line that opens on a click, so the changes are what the eye lands on.
 */
import React from 'react';

import { MlopsAPI } from '../api';
import { DiffSide } from './versions-model';

/** Props of {@link NotebookDiff}. */
export interface INotebookDiffProps {
  /** The diff. */
  diff: MlopsAPI.IDiffNotebooksResponse;
  /** Older and newer side. */
  sides: [DiffSide, DiffSide];
  /** Close the diff (no back button when omitted, as in a main-area tab). */
  onClose?: () => void;
}

function sideLabel(side: DiffSide): string {
  return side === 'current' ? 'the notebook now' : `v${side}`;
}

function Outputs(props: {
  label: string;
  outputs: MlopsAPI.IOutputSummary[];
}): JSX.Element {
  return (
    <div className="jp-mlops-diff-outputs">
      <div className="jp-mlops-muted">{props.label}</div>
      {props.outputs.length === 0 && (
        <div className="jp-mlops-muted">(no output)</div>
      )}
      {props.outputs.map((o, i) => (
        <pre key={i} className="jp-mlops-code">
          {o.text || `[${o.output_type}]`}
        </pre>
      ))}
    </div>
  );
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

/** MIME types an <img> may show; anything else the server sends is not drawn. */
const IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/svg+xml'
]);

/**
 * The data: URL of an output image, or null when there is nothing to draw. An SVG is
 * base64-encoded here and shown through <img>, never inserted as markup: an image document
 * runs no script and loads nothing.
 */
export function imageSource(image: MlopsAPI.IOutputImage): string | null {
  if (image.data === null || !IMAGE_TYPES.has(image.mime)) {
    return null;
  }
  let base64 = image.data;
  if (image.encoding === 'text') {
    const bytes = new TextEncoder().encode(image.data);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    base64 = btoa(binary);
  } else if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    return null; // not base64: it could break out of the URL
  }
  return `data:${image.mime};base64,${base64}`;
}

function OutputImage(props: {
  image: MlopsAPI.IOutputImage;
  side: string;
}): JSX.Element {
  const { image, side } = props;
  const src = imageSource(image);
  return (
    <figure className="jp-mlops-diff-image">
      {src !== null ? (
        <img src={src} alt={`${image.mime} ${side}`} />
      ) : (
        <div className="jp-mlops-muted jp-mlops-diff-image-note">
          [{image.mime}] {image.note ?? 'not shown'}
        </div>
      )}
      <figcaption className="jp-mlops-muted">
        {side} · {image.mime}
      </figcaption>
    </figure>
  );
}

/** The images of one output change: before on the left, after on the right. */
function ChangeImages(props: {
  change: MlopsAPI.IOutputChange;
}): JSX.Element | null {
  const { change } = props;
  if (change.images_a.length === 0 && change.images_b.length === 0) {
    return null;
  }
  const side = (images: MlopsAPI.IOutputImage[], label: string) => (
    <div>
      {images.length === 0 && (
        <div className="jp-mlops-muted">(no image {label})</div>
      )}
      {images.map((image, i) => (
        <OutputImage key={i} image={image} side={label} />
      ))}
    </div>
  );
  return (
    <div className="jp-mlops-diff-output-pair jp-mlops-diff-image-pair">
      {side(change.images_a, 'before')}
      {side(change.images_b, 'after')}
    </div>
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

function CellDiff(props: { cell: MlopsAPI.ICellDiff }): JSX.Element {
  const { cell } = props;
  return (
    <div className={`jp-mlops-diff-cell jp-mlops-diff-${cell.status}`}>
      <div className="jp-mlops-diff-cell-header">
        <span className="jp-mlops-diff-badge">{cell.status}</span>
        <span className="jp-mlops-muted">{describeCell(cell)}</span>
      </div>
      <DiffLines lines={cell.source_diff} />
      {cell.output_changes.length > 0 && (
        <ul className="jp-mlops-diff-output-changes">
          {cell.output_changes.map((change, i) => (
            <li key={i}>
              {describeOutputChange(change)}
              <ChangeImages change={change} />
            </li>
          ))}
        </ul>
      )}
      {cell.outputs_changed && (
        <div className="jp-mlops-diff-output-pair">
          <Outputs label="outputs before" outputs={cell.outputs_a} />
          <Outputs label="outputs after" outputs={cell.outputs_b} />
        </div>
      )}
    </div>
  );
}

/** The whole diff with its summary line. */
export function NotebookDiff(props: INotebookDiffProps): JSX.Element {
  const { diff } = props;
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
              <CellDiff key={j} cell={cell} />
            ))}
          </details>
        ) : (
          <CellDiff key={i} cell={group[0]} />
        )
      )}
    </div>
  );
}
