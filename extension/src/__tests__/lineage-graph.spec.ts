import { MlopsAPI } from '../api';
import {
  BOX_HEIGHT,
  BOX_WIDTH,
  GAP_LAYER,
  GAP_X,
  GAP_Y,
  HEADER_HEIGHT,
  MAX_BOX_WIDTH,
  boxLabel,
  horizontalWidth,
  layoutLineage
} from '../lineage/graph-layout';

function node(
  kind: MlopsAPI.LineageKind,
  key: string,
  ref = key
): MlopsAPI.ILineageNode {
  return { id: `${kind}:${key}`, kind, ref, label: ref, detail: '' };
}

function edge(
  source: string,
  target: string,
  role: string
): MlopsAPI.ILineageEdge {
  return { source, target, role };
}

// churn/2's graph: trained in run r2 on train@2 (and a second dataset), from a notebook,
// aliased production, deployed twice
const graph: MlopsAPI.ILineageGraph = {
  root: 'model:2',
  direction: 'both',
  truncated: false,
  nodes: [
    node('dataset', '5', 'train@2'),
    node('dataset', '7', 'holdout@1'),
    node('notebook', '1', 'train.ipynb@abc'),
    node('run', 'r2'),
    node('model', '2', 'churn/2'),
    node('alias', 'churn@production'),
    node('deployment', '3', 'deployment:3'),
    node('deployment', '4', 'deployment:4')
  ],
  edges: [
    edge('dataset:5', 'run:r2', 'read'),
    edge('dataset:7', 'run:r2', 'read'),
    edge('notebook:1', 'run:r2', 'ran'),
    edge('run:r2', 'model:2', 'logged'),
    edge('model:2', 'alias:churn@production', 'alias'),
    edge('alias:churn@production', 'deployment:3', 'serves'),
    edge('model:2', 'deployment:4', 'serves'),
    edge('model:2', 'model:gone', 'dangling')
  ]
};

describe('layoutLineage', () => {
  it('puts one column per kind present, in the order data flows', () => {
    const layout = layoutLineage(graph);
    expect(layout.columns.map(c => c.kind)).toEqual([
      'dataset',
      'notebook',
      'run',
      'model',
      'alias',
      'deployment'
    ]);
    expect(layout.columns.map(c => c.title)[3]).toBe('Model versions');
    const column = (id: string) => layout.nodes.find(n => n.id === id)!.column;
    expect(column('dataset:5')).toBe(0);
    expect(column('run:r2')).toBe(2);
    expect(column('deployment:4')).toBe(5);
    expect(layout.nodes.find(n => n.id === 'run:r2')!.x).toBe(
      2 * (BOX_WIDTH + GAP_X)
    );
  });

  it('marks the root, stacks a column top to bottom and sizes the drawing', () => {
    const layout = layoutLineage(graph);
    expect(layout.nodes.filter(n => n.isRoot).map(n => n.ref)).toEqual([
      'churn/2'
    ]);
    const datasets = layout.nodes.filter(n => n.kind === 'dataset');
    expect(datasets.map(n => [n.ref, n.row])).toEqual([
      ['holdout@1', 0],
      ['train@2', 1]
    ]);
    expect(datasets[1].y - datasets[0].y).toBeGreaterThanOrEqual(BOX_HEIGHT);
    expect(datasets[0].y).toBe(HEADER_HEIGHT);
    expect(layout.height).toBe(datasets[1].y + BOX_HEIGHT);
    expect(layout.width).toBe(6 * BOX_WIDTH + 5 * GAP_X);
  });

  it('draws every link between two known nodes, from right edge to left edge', () => {
    const layout = layoutLineage(graph);
    expect(layout.edges).toHaveLength(7); // the dangling link is left out
    const logged = layout.edges.find(e => e.role === 'logged')!;
    const run = layout.nodes.find(n => n.id === 'run:r2')!;
    const model = layout.nodes.find(n => n.id === 'model:2')!;
    expect(logged.backward).toBe(false);
    expect(
      logged.path.startsWith(
        `M ${run.x + BOX_WIDTH} ${run.y + BOX_HEIGHT / 2} C`
      )
    ).toBe(true);
    expect(logged.path.endsWith(`${model.x} ${model.y + BOX_HEIGHT / 2}`)).toBe(
      true
    );
  });

  it('orders a column by where its parents sit, so links cross less', () => {
    // two runs, each reading one dataset: run of the second dataset goes second
    const crossing: MlopsAPI.ILineageGraph = {
      root: 'dataset:a',
      direction: 'down',
      truncated: false,
      nodes: [
        node('dataset', 'a', 'a@1'),
        node('dataset', 'b', 'b@1'),
        node('run', '1', 'run-z'),
        node('run', '2', 'run-y')
      ],
      edges: [
        edge('dataset:a', 'run:1', 'read'),
        edge('dataset:b', 'run:2', 'read')
      ]
    };
    const runs = layoutLineage(crossing).nodes.filter(n => n.kind === 'run');
    // by ref alone run-y would come first and the two links would cross
    expect(runs.map(n => n.ref)).toEqual(['run-z', 'run-y']);
  });

  it('draws a run writing a dataset as a backward link and an empty graph as nothing', () => {
    const wrote = layoutLineage({
      root: 'run:1',
      direction: 'down',
      truncated: false,
      nodes: [node('run', '1'), node('dataset', 's', 'scores@1')],
      edges: [edge('run:1', 'dataset:s', 'wrote')]
    });
    expect(wrote.edges[0].backward).toBe(true);
    const empty = layoutLineage({
      root: 'model:1',
      direction: 'both',
      truncated: false,
      nodes: [],
      edges: []
    });
    expect([empty.columns, empty.nodes, empty.width, empty.height]).toEqual([
      [],
      [],
      0,
      0
    ]);
  });

  it('lays the layers out as rows for a narrow panel, links from bottom edge to top edge', () => {
    const layout = layoutLineage(graph, 'down');
    const at = (id: string) => layout.nodes.find(n => n.id === id)!;
    // one row per kind, in flow order; a kind's nodes side by side
    expect(at('dataset:7').y).toBe(HEADER_HEIGHT);
    expect(at('dataset:5').y).toBe(HEADER_HEIGHT);
    expect(at('dataset:5').x).toBe(BOX_WIDTH + GAP_Y);
    expect(at('run:r2').y).toBe(HEADER_HEIGHT + 2 * (BOX_HEIGHT + GAP_LAYER));
    // each row's heading sits right above it
    expect(layout.columns[2]).toMatchObject({ kind: 'run', x: 0 });
    expect(layout.columns[2].y).toBe(at('run:r2').y - HEADER_HEIGHT);
    const logged = layout.edges.find(e => e.role === 'logged')!;
    const run = at('run:r2');
    const model = at('model:2');
    expect(
      logged.path.startsWith(
        `M ${run.x + BOX_WIDTH / 2} ${run.y + BOX_HEIGHT} C`
      )
    ).toBe(true);
    expect(logged.path.endsWith(`${model.x + BOX_WIDTH / 2} ${model.y}`)).toBe(
      true
    );
    // two boxes wide (datasets, deployments), six rows tall
    expect(layout.width).toBe(2 * BOX_WIDTH + GAP_Y);
    expect(layout.height).toBe(HEADER_HEIGHT + 6 * BOX_HEIGHT + 5 * GAP_LAYER);
    // what a left-to-right layout would need, to choose between the two
    expect(horizontalWidth(graph)).toBe(layoutLineage(graph).width);
  });

  it('widens the boxes to fill a narrow panel, within bounds', () => {
    // the widest layer (datasets, deployments) holds two boxes
    const fits = layoutLineage(graph, 'down', 412);
    expect(fits.boxWidth).toBe(200);
    expect(fits.width).toBe(412);
    const logged = fits.edges.find(e => e.role === 'logged')!;
    const run = fits.nodes.find(n => n.id === 'run:r2')!;
    expect(logged.path.startsWith(`M ${run.x + 100} `)).toBe(true);
    expect(layoutLineage(graph, 'down', 200).boxWidth).toBe(BOX_WIDTH);
    expect(layoutLineage(graph, 'down', 5000).boxWidth).toBe(MAX_BOX_WIDTH);
    expect(layoutLineage(graph, 'right', 5000).boxWidth).toBe(BOX_WIDTH);
  });

  it("labels a notebook's box with its file name, not its absolute path", () => {
    const notebook: MlopsAPI.ILineageNode = {
      ...node('notebook', '1', '/home/ada/work/train.ipynb@abc'),
      label: '/home/ada/work/train.ipynb'
    };
    expect(boxLabel(notebook)).toBe('train.ipynb');
    expect(boxLabel({ ...notebook, label: 'C:\\work\\x.ipynb' })).toBe(
      'x.ipynb'
    );
    expect(boxLabel(node('dataset', '5', 'train@2'))).toBe('train@2');
    // the layer's heading already says "Runs"
    const run = { ...node('run', 'e8ece8a8'), label: 'run e8ece8a8 train' };
    expect(boxLabel(run)).toBe('e8ece8a8 train');
  });
});
