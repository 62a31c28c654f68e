/**
 * The notebook diff as the compare and versions views render it: a moved cell says where it
 * was, an edited line shows as removed then added, output changes are listed in words, and
 * unchanged cells fold away, and outputs go to the rendermime registry as untrusted bundles.
 * Rendered to static markup with React's server renderer. Jest here runs in Node without a
 * DOM and cannot load @jupyterlab/rendermime (an ES module), so the registry is a recording
 * stand-in; the real registry renders in Chromium (tests/ui/test_diff_images.py).
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
import { IDiffRenderMime, chooseView } from '../versions/output-view';

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

function summary(
  output_type: string,
  text: string,
  media: string[] = [],
  data: Record<string, string> = {}
): MlopsAPI.IOutputSummary {
  return { output_type, text, media, data, data_note: null };
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
        outputs_a: [summary('stream', '0.8\n')],
        outputs_b: [
          summary('stream', '0.9\n'),
          summary('display_data', '[image/png 1a2b3c]', ['image/png'])
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
    images_b: MlopsAPI.IOutputImage[],
    op: 'changed' | 'added' = 'changed'
  ): string {
    const d = diff();
    d.cells[2].output_changes = [
      {
        op,
        a_index: op === 'added' ? null : 0,
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

  it("draws an added cell's figure once, as the added side, and a removed cell's too", () => {
    for (const status of ['added', 'removed'] as const) {
      const added = status === 'added';
      const d = diff();
      d.cells = [
        cell({
          status,
          a_index: added ? null : 0,
          b_index: added ? 0 : null,
          source_a: added ? '' : 'plot()',
          source_b: added ? 'plot()' : '',
          source_diff: [{ op: added ? '+' : '-', text: 'plot()' }],
          [added ? 'outputs_b' : 'outputs_a']: [
            summary('display_data', '<Figure>', ['image/png'])
          ],
          output_changes: [
            {
              op: status,
              a_index: added ? null : 0,
              b_index: added ? 0 : null,
              output_type: 'display_data',
              parts: ['image/png'],
              images_a: added ? [] : [png(RED)],
              images_b: added ? [png(BLUE)] : []
            }
          ]
        })
      ];
      d.summary = {
        ...d.summary,
        changed: 0,
        moved: 0,
        unchanged: 0,
        [status]: 1
      };
      const html = renderToStaticMarkup(
        React.createElement(NotebookDiff, { diff: d, sides: [1, 2] })
      );
      const sources = [...html.matchAll(/<img src="([^"]*)"/g)].map(m => m[1]);
      expect(sources).toEqual([`data:image/png;base64,${added ? BLUE : RED}`]);
      const shown = text(html);
      expect(shown).toContain(`output 1 (display_data) ${status} (image/png)`);
      expect(shown).toContain(`${status} · image/png`);
      expect(shown).not.toContain('(no output');
      expect(html).toContain('jp-mlops-diff-output-single');
      expect(html).not.toContain('jp-mlops-diff-output-pair');
    }
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
    const html = withImages([], [image], 'added');
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<script');
    const src = /<img src="([^"]*)"/.exec(html)![1];
    expect(src.startsWith('data:image/svg+xml;base64,')).toBe(true);
    const decoded = Buffer.from(src.split(',')[1], 'base64').toString('utf8');
    expect(decoded).toBe(svg);
    expect(text(html)).toContain('(no output before)');
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

/** A registry stand-in that records what it is asked and answers `preferred`. */
function recordingRegistry(preferred: string | undefined): IDiffRenderMime & {
  asked: [Record<string, unknown>, string | undefined][];
} {
  const asked: [Record<string, unknown>, string | undefined][] = [];
  return {
    asked,
    preferredMimeType: (bundle, safe) => {
      asked.push([bundle as Record<string, unknown>, safe]);
      return preferred;
    },
    createRenderer: () => {
      throw new Error(
        'a renderer is created when mounted, not in static markup'
      );
    }
  };
}

describe('NotebookDiff outputs, rendered through the registry', () => {
  const table =
    '<table><tr><td>0.9</td></tr></table><script>window.__pwned = 1</script>';
  const html = summary('execute_result', '   acc\n0  0.9', ['text/html'], {
    'text/html': table,
    'text/plain': '   acc\n0  0.9'
  });
  const RED =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
  const red: MlopsAPI.IOutputImage = {
    mime: 'image/png',
    encoding: 'base64',
    data: RED,
    size: 70,
    note: null
  };

  it('asks only for a MIME type whose renderer is safe, as for an untrusted notebook', () => {
    const registry = recordingRegistry('text/html');
    expect(chooseView(html, [], registry)).toEqual({
      kind: 'mime',
      mime: 'text/html'
    });
    expect(registry.asked).toEqual([[html.data, 'ensure']]);
  });

  it("draws a figure's images instead of its text/plain stand-in", () => {
    const figure = summary('display_data', '', ['image/png'], {
      'text/plain': '<Figure size 120x80 with 1 Axes>'
    });
    expect(chooseView(figure, [red], recordingRegistry('text/plain'))).toEqual({
      kind: 'images'
    });
    // an output whose rich type ranks above its image shows that, as JupyterLab would
    expect(chooseView(html, [red], recordingRegistry('text/html'))).toEqual({
      kind: 'mime',
      mime: 'text/html'
    });
  });

  it('shows the summary text without a registry, a bundle or a safe type', () => {
    expect(chooseView(html, [], null)).toEqual({ kind: 'text' });
    const registry = recordingRegistry('text/html');
    expect(chooseView(summary('stream', 'x'), [], registry)).toEqual({
      kind: 'text'
    });
    expect(registry.asked).toEqual([]); // an empty bundle is not offered
    expect(chooseView(html, [], recordingRegistry(undefined))).toEqual({
      kind: 'text'
    });
  });

  it('leaves the markup to the renderer: no HTML of the output in the page, a host per side', () => {
    const d = diff();
    const cell = d.cells[2];
    cell.outputs_a = [
      summary('stream', '0.8\n', [], { 'text/plain': '0.8\n' })
    ];
    cell.outputs_b = [
      html,
      { ...summary('stream', 'x'.repeat(10)), data_note: 'text/html too long' }
    ];
    cell.output_changes = [
      {
        op: 'changed',
        a_index: 0,
        b_index: 0,
        output_type: 'execute_result',
        parts: ['text/html', 'text/plain'],
        images_a: [],
        images_b: []
      }
    ];
    const markup = renderToStaticMarkup(
      React.createElement(NotebookDiff, {
        diff: d,
        sides: [1, 2],
        rendermime: recordingRegistry('text/html')
      })
    );
    expect(markup).not.toContain('<table');
    expect(markup).not.toContain('<script');
    expect(markup).not.toContain('__pwned');
    const hosts = [...markup.matchAll(/data-mime-type="([^"]+)"/g)].map(
      m => m[1]
    );
    // before and after each get a host (the registry chose text/html for both)
    expect(hosts).toEqual(['text/html', 'text/html']);
    // the unchanged output, without a bundle, folds with its summary text
    expect(text(markup)).toContain('x'.repeat(10));
    expect(text(markup)).toContain('1 unchanged output');
    expect(markup).toContain('jp-mlops-diff-folded-outputs');
    expect(text(markup)).toContain('text/html too long');
  });
});
