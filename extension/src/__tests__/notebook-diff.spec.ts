/**
 * The notebook diff as the compare and versions views render it: a moved cell says where it
 * was, an edited line shows as removed then added, output changes are listed in words, and
 * unchanged cells fold away. Rendered to static markup with React's server renderer.
 */
import React from 'react';
// @ts-expect-error react-dom ships no type declarations here; its server renderer is untyped
import { renderToStaticMarkup as render } from 'react-dom/server';

import type { MlopsAPI } from '../api';
import {
  NotebookDiff,
  describeCell,
  describeOutputChange,
  imageSource
} from '../versions/notebook-diff';

const renderToStaticMarkup = render as (element: React.ReactElement) => string;

jest.mock('../api', () => ({}));

function cell(extra: Partial<MlopsAPI.ICellDiff>): MlopsAPI.ICellDiff {
  return {
    status: 'unchanged',
    cell_type: 'code',
    a_index: 0,
    b_index: 0,
    source_changed: false,
    outputs_changed: false,
    source_a: '',
    source_b: '',
    source_diff: [],
    outputs_a: [],
    outputs_b: [],
    output_changes: [],
    ...extra
  };
}

/** What the server answers for: cell 3 moved to the top, cell 2 edited with a new output. */
function diff(): MlopsAPI.IDiffNotebooksResponse {
  return {
    a: '1',
    b: '2',
    cells: [
      cell({
        status: 'moved',
        a_index: 2,
        b_index: 0,
        source_a: 'seed = 0',
        source_b: 'seed = 0',
        source_diff: [{ op: ' ', text: 'seed = 0' }]
      }),
      cell({
        a_index: 0,
        b_index: 1,
        source_a: 'import numpy',
        source_b: 'import numpy',
        source_diff: [{ op: ' ', text: 'import numpy' }]
      }),
      cell({
        status: 'changed',
        a_index: 1,
        b_index: 2,
        source_changed: true,
        outputs_changed: true,
        source_a: 'C = 0.1\nfit(C)',
        source_b: 'C = 1.0\nfit(C)',
        source_diff: [
          { op: '-', text: 'C = 0.1' },
          { op: '+', text: 'C = 1.0' },
          { op: ' ', text: 'fit(C)' }
        ],
        outputs_a: [{ output_type: 'stream', text: '0.8\n', media: [] }],
        outputs_b: [
          { output_type: 'stream', text: '0.9\n', media: [] },
          {
            output_type: 'display_data',
            text: '[image/png 1a2b3c]',
            media: ['image/png']
          }
        ],
        output_changes: [
          {
            op: 'changed',
            a_index: 0,
            b_index: 0,
            output_type: 'stream',
            parts: ['text'],
            images_a: [],
            images_b: []
          },
          {
            op: 'added',
            a_index: null,
            b_index: 1,
            output_type: 'display_data',
            parts: ['image/png'],
            images_a: [],
            images_b: []
          }
        ]
      })
    ],
    summary: { added: 0, removed: 0, changed: 1, moved: 1, unchanged: 1 }
  };
}

function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, '\n')
    .replace(/&#x27;/g, "'")
    .replace(/&gt;/g, '>');
}

describe('NotebookDiff', () => {
  it('says where a moved cell was and what changed in an edited one', () => {
    const cells = diff().cells;
    expect(describeCell(cells[0])).toBe('code cell 1 · was cell 3');
    expect(describeCell(cells[2])).toBe(
      'code cell 3 · source and outputs changed'
    );
  });

  it('describes output changes in words', () => {
    const [changed, added] = diff().cells[2].output_changes;
    expect(describeOutputChange(changed)).toBe(
      'output 1 (stream) changed: text'
    );
    expect(describeOutputChange(added)).toBe(
      'output 2 (display_data) added (image/png)'
    );
  });

  it('renders the summary, the edited lines in order and the outputs', () => {
    const html = renderToStaticMarkup(
      React.createElement(NotebookDiff, { diff: diff(), sides: [1, 2] })
    );
    const shown = text(html);
    expect(shown).toContain('v1 → v2');
    expect(shown).toContain(
      '1 changed · 0 added · 0 removed · 1 moved · 1 unchanged'
    );
    // The edited line: removed then added, each in its own marked row
    const removed = html.indexOf('jp-mlops-line-removed">- C = 0.1');
    const added = html.indexOf('jp-mlops-line-added">+ C = 1.0');
    expect(removed).toBeGreaterThan(-1);
    expect(added).toBeGreaterThan(removed);
    expect(shown).toContain('output 2 (display_data) added (image/png)');
    expect(shown).toContain('0.8\n');
    expect(shown).toContain('[image/png 1a2b3c]');
    // The moved cell is shown (not folded), the unchanged one folds into a summary line
    expect(html).toContain('jp-mlops-diff-moved');
    expect(shown).toContain('1 unchanged cell');
  });

  // A 1x1 PNG, as nbformat stores it (base64)
  const RED =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const BLUE =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
  const png = (data: string | null, note: string | null = null) =>
    ({
      mime: 'image/png',
      encoding: 'base64',
      data,
      size: 70,
      note
    }) as MlopsAPI.IOutputImage;

  function withImages(
    images_a: MlopsAPI.IOutputImage[],
    images_b: MlopsAPI.IOutputImage[]
  ): string {
    const d = diff();
    d.cells[2].output_changes = [
      {
        op: 'changed',
        a_index: 0,
        b_index: 0,
        output_type: 'display_data',
        parts: ['image/png'],
        images_a,
        images_b
      }
    ];
    return renderToStaticMarkup(
      React.createElement(NotebookDiff, { diff: d, sides: [1, 2] })
    );
  }

  it('draws a changed figure as two images, before and after, captioned by type', () => {
    const html = withImages([png(RED)], [png(BLUE)]);
    const sources = [...html.matchAll(/<img src="([^"]*)"/g)].map(m => m[1]);
    expect(sources).toEqual([
      `data:image/png;base64,${RED}`,
      `data:image/png;base64,${BLUE}`
    ]);
    const shown = text(html);
    expect(shown).toContain('before · image/png');
    expect(shown).toContain('after · image/png');
    // before sits left of after, in one side-by-side pair
    expect(html.indexOf(RED)).toBeLessThan(html.indexOf(BLUE));
    expect(html).toContain('jp-mlops-diff-image-pair');
  });

  it('draws an SVG through <img> as a data URL, never as markup', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><text>é</text></svg>';
    const image: MlopsAPI.IOutputImage = {
      mime: 'image/svg+xml',
      encoding: 'text',
      data: svg,
      size: svg.length,
      note: null
    };
    const html = withImages([], [image]);
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<script');
    const src = /<img src="([^"]*)"/.exec(html)![1];
    expect(src.startsWith('data:image/svg+xml;base64,')).toBe(true);
    const decoded = Buffer.from(src.split(',')[1], 'base64').toString('utf8');
    expect(decoded).toBe(svg);
    expect(text(html)).toContain('(no image before)');
  });

  it('shows the note of an image too large to show instead of an <img>', () => {
    const note =
      'image too large to show (1,465 kB; the diff shows up to 1,000 kB)';
    const html = withImages([png(null, note)], [png(RED)]);
    expect([...html.matchAll(/<img /g)]).toHaveLength(1);
    expect(text(html)).toContain(`[image/png] ${note}`);
  });

  it('draws nothing from data that is not base64 or a type not allowed', () => {
    expect(imageSource(png('x" onerror="alert(1)'))).toBeNull();
    expect(imageSource({ ...png(RED), mime: 'text/html' } as never)).toBeNull();
  });
});
