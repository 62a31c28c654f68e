/**
 * The lineage graph of a model version: boxes in one layer per kind, links drawn as SVG
 * curves under them (layout in `graph-layout.ts`). Columns left to right when the panel is wide
 * enough for them, else rows top to bottom (the side panel's usual width). A run's box opens
 * the run.
 */
import React from 'react';

import { MlopsAPI } from '../api';
import {
  BOX_HEIGHT,
  LineageDirection,
  boxLabel,
  horizontalWidth,
  layoutLineage
} from './graph-layout';

/** Follow the width of `ref`'s element (0 until it is laid out; `shown` says it is drawn). */
function useWidth(ref: React.RefObject<HTMLElement>, shown: boolean): number {
  const [width, setWidth] = React.useState(0);
  React.useEffect(() => {
    const element = ref.current;
    if (!element) {
      return;
    }
    setWidth(element.clientWidth);
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref, shown]);
  return width;
}

/** Props of {@link LineageGraph}. */
export interface ILineageGraphProps {
  /** The graph from `GET models/{name}/versions/{version}`. */
  graph: MlopsAPI.ILineageGraph;
  /** Open a run in the runs view. */
  onOpenRun: (runId: string) => void;
}

/** Draw the graph; a one-node graph says there is nothing around it. */
export function LineageGraph(props: ILineageGraphProps): JSX.Element {
  const frame = React.useRef<HTMLDivElement>(null);
  const width = useWidth(frame, props.graph.nodes.length > 1);
  const direction: LineageDirection =
    width > 0 && width < horizontalWidth(props.graph) ? 'down' : 'right';
  const layout = React.useMemo(
    () => layoutLineage(props.graph, direction, width),
    [props.graph, direction, width]
  );
  if (props.graph.nodes.length <= 1) {
    return (
      <p className="jp-mlops-muted">
        No datasets, runs, aliases or deployments linked to this version.
      </p>
    );
  }
  return (
    <div
      ref={frame}
      className="jp-mlops-lineage-graph"
      aria-label="Lineage graph"
      data-direction={direction}
    >
      <div
        className="jp-mlops-lineage-canvas"
        style={{ width: layout.width, height: layout.height }}
      >
        <svg
          className="jp-mlops-lineage-links"
          width={layout.width}
          height={layout.height}
        >
          {layout.edges.map(e => (
            <path
              key={`${e.source}>${e.target}`}
              d={e.path}
              className={
                e.backward
                  ? 'jp-mlops-lineage-link jp-mlops-lineage-backward'
                  : 'jp-mlops-lineage-link'
              }
            >
              <title>{e.role}</title>
            </path>
          ))}
        </svg>
        {layout.columns.map(c => (
          <div
            key={c.kind}
            className="jp-mlops-lineage-heading"
            style={{
              left: c.x,
              top: c.y,
              width: direction === 'down' ? layout.width : layout.boxWidth
            }}
          >
            {c.title}
          </div>
        ))}
        {layout.nodes.map(n => {
          const classes = [
            'jp-mlops-lineage-node',
            `jp-mlops-lineage-${n.kind}`,
            n.isRoot ? 'jp-mlops-lineage-root' : ''
          ].join(' ');
          const style = {
            left: n.x,
            top: n.y,
            width: layout.boxWidth,
            height: BOX_HEIGHT
          };
          const body = (
            <>
              <span className="jp-mlops-lineage-label">{boxLabel(n)}</span>
              {n.detail && (
                <span className="jp-mlops-lineage-detail">{n.detail}</span>
              )}
            </>
          );
          return n.kind === 'run' ? (
            <button
              key={n.id}
              className={classes}
              style={style}
              title={`Open run ${n.ref}`}
              onClick={() => props.onOpenRun(n.ref)}
            >
              {body}
            </button>
          ) : (
            <div key={n.id} className={classes} style={style} title={n.ref}>
              {body}
            </div>
          );
        })}
      </div>
      {props.graph.truncated && (
        <p className="jp-mlops-muted">
          The graph stopped at its node limit; `mlops lineage` walks one side at
          a time.
        </p>
      )}
    </div>
  );
}
