/**
 * Lays a lineage graph (`ILineageGraph`) out in layers: one layer per node kind, in the order
 * data flows (datasets, notebooks, runs, models, aliases, deployments), nodes in a layer ordered
 * by where their parents sit (a barycentre pass, so links cross as little as a single pass can
 * make them), and each link as a curve from its source to its target. Layers are columns left
 * to right (`right`, for a wide panel) or rows top to bottom (`down`: the side panel is narrow,
 * and six columns would put all but the datasets out of sight). Pure data: `lineage-graph.tsx`
 * only draws it.
 */
import { MlopsAPI } from '../api';

/** Column order: the order data flows in (Python `core.lineage.KINDS`). */
export const KIND_ORDER: MlopsAPI.LineageKind[] = [
  'dataset',
  'notebook',
  'run',
  'model',
  'alias',
  'deployment'
];

/** Column headings. */
export const KIND_TITLES: Record<MlopsAPI.LineageKind, string> = {
  dataset: 'Datasets',
  notebook: 'Notebooks',
  run: 'Runs',
  model: 'Model versions',
  alias: 'Aliases',
  deployment: 'Deployments'
};

/** Box and gap sizes in pixels. */
export const BOX_WIDTH = 150;
/** The widest a box grows to fill a narrow panel (drawn top to bottom). */
export const MAX_BOX_WIDTH = 320;
export const BOX_HEIGHT = 40;
export const GAP_X = 48;
export const GAP_Y = 12;
/** Room above the boxes for the column headings. */
export const HEADER_HEIGHT = 22;
/** Vertical gap between two layers drawn top to bottom (the heading sits in it). */
export const GAP_LAYER = 34;

/** Which way the layers go: columns left to right, or rows top to bottom. */
export type LineageDirection = 'right' | 'down';

/** The width a left-to-right layout of `graph` needs, pixels (to choose a direction). */
export function horizontalWidth(graph: MlopsAPI.ILineageGraph): number {
  const kinds = KIND_ORDER.filter(k => graph.nodes.some(n => n.kind === k));
  return kinds.length * (BOX_WIDTH + GAP_X) - (kinds.length ? GAP_X : 0);
}

/**
 * The line a box shows, in the 150 pixels it has: a notebook's file name rather than its
 * absolute path (whose start is the same `/home/...` for every notebook), and a run without
 * the word its layer's heading already says (`e8ece8a8 train_churn`, not `run e8ece8a8 tr…`).
 */
export function boxLabel(node: MlopsAPI.ILineageNode): string {
  if (node.kind === 'notebook') {
    return node.label.split(/[\\/]/).pop() || node.label;
  }
  if (node.kind === 'run' && node.label.startsWith('run ')) {
    return node.label.slice('run '.length);
  }
  return node.label;
}

/** A node with its place. */
export interface IPlacedNode extends MlopsAPI.ILineageNode {
  /** Column index (0 = leftmost column shown). */
  column: number;
  /** Index within its layer. */
  row: number;
  /** Left edge, pixels. */
  x: number;
  /** Top edge, pixels. */
  y: number;
  /** True for the node the graph was walked from. */
  isRoot: boolean;
}

/** A link with its drawn path. */
export interface IPlacedEdge extends MlopsAPI.ILineageEdge {
  /** SVG path data (`M … C …`). */
  path: string;
  /** True when the link runs against the flow (a run writing a dataset). */
  backward: boolean;
}

/** A layer's heading (a column's, or a row's when drawn top to bottom). */
export interface IPlacedColumn {
  /** The kind the layer holds. */
  kind: MlopsAPI.LineageKind;
  /** Its heading. */
  title: string;
  /** Left edge, pixels. */
  x: number;
  /** Top edge, pixels. */
  y: number;
}

/** Everything `LineageGraph` draws. */
export interface ILineageLayout {
  /** Width of every box, pixels. */
  boxWidth: number;
  /** Layers that hold at least one node, in flow order. */
  columns: IPlacedColumn[];
  /** Every node, layer by layer. */
  nodes: IPlacedNode[];
  /** Every link whose two ends are in the graph. */
  edges: IPlacedEdge[];
  /** Drawing width, pixels. */
  width: number;
  /** Drawing height, pixels. */
  height: number;
}

function byRef(a: MlopsAPI.ILineageNode, b: MlopsAPI.ILineageNode): number {
  return a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
}

function place(
  direction: LineageDirection,
  layer: number,
  index: number,
  boxWidth: number
): { x: number; y: number } {
  if (direction === 'down') {
    return {
      x: index * (boxWidth + GAP_Y),
      y: HEADER_HEIGHT + layer * (BOX_HEIGHT + GAP_LAYER)
    };
  }
  return {
    x: layer * (BOX_WIDTH + GAP_X),
    y: HEADER_HEIGHT + index * (BOX_HEIGHT + GAP_Y)
  };
}

function curve(
  direction: LineageDirection,
  from: IPlacedNode,
  to: IPlacedNode,
  backward: boolean,
  boxWidth: number
): string {
  if (direction === 'down') {
    const x1 = from.x + boxWidth / 2;
    const x2 = to.x + boxWidth / 2;
    const y1 = backward ? from.y : from.y + BOX_HEIGHT;
    const y2 = backward ? to.y + BOX_HEIGHT : to.y;
    const bend = backward ? -GAP_LAYER : GAP_LAYER / 2;
    return `M ${x1} ${y1} C ${x1} ${y1 + bend}, ${x2} ${y2 - bend}, ${x2} ${y2}`;
  }
  const x1 = backward ? from.x : from.x + BOX_WIDTH;
  const x2 = backward ? to.x + BOX_WIDTH : to.x;
  const y1 = from.y + BOX_HEIGHT / 2;
  const y2 = to.y + BOX_HEIGHT / 2;
  const bend = backward ? -GAP_X : GAP_X / 2;
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}

/**
 * Lay `graph` out (see the module comment); `right` unless told `down`. Drawn `down` in a box
 * `available` pixels wide, the boxes widen to fill it (up to {@link MAX_BOX_WIDTH}), so a run's
 * name is not cut at 150 pixels when the panel has room for more.
 */
export function layoutLineage(
  graph: MlopsAPI.ILineageGraph,
  direction: LineageDirection = 'right',
  available = 0
): ILineageLayout {
  const perLayer = new Map<string, number>();
  for (const n of graph.nodes) {
    perLayer.set(n.kind, (perLayer.get(n.kind) ?? 0) + 1);
  }
  const widest = Math.max(1, ...perLayer.values());
  const boxWidth =
    direction === 'down' && available > 0
      ? Math.max(
          BOX_WIDTH,
          Math.min(
            MAX_BOX_WIDTH,
            Math.floor((available - (widest - 1) * GAP_Y) / widest)
          )
        )
      : BOX_WIDTH;
  const known = new Set(graph.nodes.map(n => n.id));
  const edges = graph.edges.filter(
    e => known.has(e.source) && known.has(e.target)
  );
  const kinds = KIND_ORDER.filter(k => graph.nodes.some(n => n.kind === k));
  const rowOf = new Map<string, number>();
  const placed: IPlacedNode[] = [];
  kinds.forEach((kind, column) => {
    const members = graph.nodes.filter(n => n.kind === kind).sort(byRef);
    // Barycentre of each node's already-placed neighbours; nodes without any keep ref order.
    const centre = new Map<string, number>();
    for (const node of members) {
      const rows = edges
        .filter(e => e.target === node.id || e.source === node.id)
        .map(e => rowOf.get(e.target === node.id ? e.source : e.target))
        .filter((r): r is number => r !== undefined);
      if (rows.length > 0) {
        centre.set(node.id, rows.reduce((a, b) => a + b, 0) / rows.length);
      }
    }
    const ordered = members
      .map((node, index) => ({ node, key: centre.get(node.id) ?? index }))
      .sort((a, b) => a.key - b.key || byRef(a.node, b.node))
      .map(entry => entry.node);
    ordered.forEach((node, row) => {
      rowOf.set(node.id, row);
      placed.push({
        ...node,
        column,
        row,
        ...place(direction, column, row, boxWidth),
        isRoot: node.id === graph.root
      });
    });
  });
  const at = new Map(placed.map(n => [n.id, n]));
  const placedEdges = edges.map(edge => {
    const from = at.get(edge.source)!;
    const to = at.get(edge.target)!;
    const backward = to.column <= from.column;
    return {
      ...edge,
      backward,
      path: curve(direction, from, to, backward, boxWidth)
    };
  });
  const rows = Math.max(0, ...placed.map(n => n.row + 1));
  const columns = kinds.map((kind, i) => {
    const at = place(direction, i, 0, boxWidth);
    return { kind, title: KIND_TITLES[kind], x: at.x, y: at.y - HEADER_HEIGHT };
  });
  if (direction === 'down') {
    return {
      boxWidth,
      columns,
      nodes: placed,
      edges: placedEdges,
      width: rows ? rows * (boxWidth + GAP_Y) - GAP_Y : 0,
      height: kinds.length
        ? HEADER_HEIGHT + kinds.length * (BOX_HEIGHT + GAP_LAYER) - GAP_LAYER
        : 0
    };
  }
  return {
    boxWidth,
    columns,
    nodes: placed,
    edges: placedEdges,
    width: horizontalWidth(graph),
    height: rows ? HEADER_HEIGHT + rows * (BOX_HEIGHT + GAP_Y) - GAP_Y : 0
  };
}
