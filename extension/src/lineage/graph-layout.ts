/**
 * Lays a lineage graph (`ILineageGraph`) out left to right: one column per node kind, in the
 * order data flows (datasets, notebooks, runs, models, aliases, deployments), nodes in a column
 * ordered by where their parents sit (a barycentre pass, so links cross as little as a single
 * pass can make them), and each link as a curve from its source's right edge to its target's
 * left edge. Pure data: `lineage-graph.tsx` only draws it.
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
export const BOX_HEIGHT = 40;
export const GAP_X = 48;
export const GAP_Y = 12;
/** Room above the boxes for the column headings. */
export const HEADER_HEIGHT = 22;

/** A node with its place. */
export interface IPlacedNode extends MlopsAPI.ILineageNode {
  /** Column index (0 = leftmost column shown). */
  column: number;
  /** Row index within its column. */
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
  /** True when the link runs right to left (a run writing a dataset). */
  backward: boolean;
}

/** A column heading. */
export interface IPlacedColumn {
  /** The kind the column holds. */
  kind: MlopsAPI.LineageKind;
  /** Its heading. */
  title: string;
  /** Left edge, pixels. */
  x: number;
}

/** Everything `LineageGraph` draws. */
export interface ILineageLayout {
  /** Columns that hold at least one node, left to right. */
  columns: IPlacedColumn[];
  /** Every node, column by column, top to bottom. */
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

/** Lay `graph` out (see the module comment). */
export function layoutLineage(graph: MlopsAPI.ILineageGraph): ILineageLayout {
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
        x: column * (BOX_WIDTH + GAP_X),
        y: HEADER_HEIGHT + row * (BOX_HEIGHT + GAP_Y),
        isRoot: node.id === graph.root
      });
    });
  });
  const at = new Map(placed.map(n => [n.id, n]));
  const placedEdges = edges.map(edge => {
    const from = at.get(edge.source)!;
    const to = at.get(edge.target)!;
    const backward = to.column <= from.column;
    const x1 = backward ? from.x : from.x + BOX_WIDTH;
    const x2 = backward ? to.x + BOX_WIDTH : to.x;
    const y1 = from.y + BOX_HEIGHT / 2;
    const y2 = to.y + BOX_HEIGHT / 2;
    const bend = backward ? -GAP_X : GAP_X / 2;
    return {
      ...edge,
      backward,
      path: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`
    };
  });
  const rows = Math.max(0, ...placed.map(n => n.row + 1));
  return {
    columns: kinds.map((kind, i) => ({
      kind,
      title: KIND_TITLES[kind],
      x: i * (BOX_WIDTH + GAP_X)
    })),
    nodes: placed,
    edges: placedEdges,
    width: kinds.length * (BOX_WIDTH + GAP_X) - (kinds.length ? GAP_X : 0),
    height: rows ? HEADER_HEIGHT + rows * (BOX_HEIGHT + GAP_Y) - GAP_Y : 0
  };
}
