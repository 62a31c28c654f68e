/**
 * One side of an output in a notebook diff, rendered the way JupyterLab renders an untrusted
 * notebook's output: through the app's rendermime registry with `trusted: false`, so HTML is
 * sanitized (no script runs, none stays in the page), Markdown and LaTeX are rendered, and
 * streams and tracebacks keep their ANSI colours. Images are drawn from the typed image fields
 * (output-image.tsx); without a registry, or for an output the server left out, the output's
 * summary text is shown.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import React, { useEffect, useRef, useState } from 'react';

import type { MlopsAPI } from '../api';
import { OutputImage } from './output-image';

/** The part of the registry a diff uses: choose a safe MIME type, create its renderer. */
export type IDiffRenderMime = Pick<
  IRenderMimeRegistry,
  'preferredMimeType' | 'createRenderer'
>;

/** How one side of an output is shown. */
export type OutputViewKind =
  { kind: 'mime'; mime: string } | { kind: 'images' } | { kind: 'text' };

/**
 * What a side shows: the MIME type JupyterLab would render for an untrusted output (only a
 * factory marked safe), its images when that would only be the text/plain stand-in of a figure,
 * else the summary text.
 */
export function chooseView(
  summary: MlopsAPI.IOutputSummary | null,
  images: MlopsAPI.IOutputImage[],
  rendermime: IDiffRenderMime | null
): OutputViewKind {
  const data = summary?.data ?? {};
  const mime =
    rendermime && Object.keys(data).length > 0
      ? rendermime.preferredMimeType(data, 'ensure')
      : undefined;
  if (images.length > 0 && (mime === undefined || mime === 'text/plain')) {
    return { kind: 'images' };
  }
  return mime !== undefined ? { kind: 'mime', mime } : { kind: 'text' };
}

/** A bundle rendered by the registry's renderer for `mime`, untrusted. */
function RenderedMime(props: {
  rendermime: IDiffRenderMime;
  mime: string;
  data: Record<string, string>;
  fallback: string;
}): JSX.Element {
  const { rendermime, mime, data } = props;
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const node = host.current;
    if (!node) {
      return;
    }
    let renderer: IRenderMime.IRenderer | null = null;
    let gone = false;
    // Lumino and rendermime are loaded when a side is mounted (a browser is there then): at
    // import time they read the browser's navigator, which the diff's tests, run in Node, do
    // not have. The model is JupyterLab's own, untrusted: a diff shows outputs it did not run.
    void Promise.all([
      import('@lumino/widgets'),
      import('@jupyterlab/rendermime')
    ])
      .then(([{ Widget }, { MimeModel }]) => {
        if (gone) {
          return;
        }
        renderer = rendermime.createRenderer(mime);
        Widget.attach(renderer, node);
        return renderer.renderModel(new MimeModel({ data, trusted: false }));
      })
      .catch((reason: Error) => {
        if (!gone) {
          setError(reason?.message ?? String(reason));
        }
      });
    return () => {
      gone = true;
      renderer?.dispose();
    };
  }, [rendermime, mime, data]);
  if (error !== null) {
    return (
      <>
        <pre className="jp-mlops-code">{props.fallback}</pre>
        <div className="jp-mlops-muted">
          {mime} could not be rendered: {error}
        </div>
      </>
    );
  }
  return (
    <div
      ref={host}
      className="jp-mlops-diff-rendered jp-OutputArea-output"
      data-mime-type={mime}
    />
  );
}

/** Props of {@link OutputView}. */
export interface IOutputViewProps {
  /** The output on this side; null when the output is not on this side. */
  summary: MlopsAPI.IOutputSummary | null;
  /** Its images on this side. */
  images: MlopsAPI.IOutputImage[];
  /** 'before' or 'after' (captions and the empty line). */
  side: string;
  /** The app's rendermime registry; the summary text is shown without one. */
  rendermime: IDiffRenderMime | null;
  /** Say the side above a rendered output or a text (images have it in their caption). */
  labelled?: boolean;
}

/** One side of an output: rendered, its images, or its text. */
export function OutputView(props: IOutputViewProps): JSX.Element {
  const { summary, images, side, rendermime } = props;
  if (summary === null && images.length === 0) {
    return <div className="jp-mlops-muted">(no output {side})</div>;
  }
  const view = chooseView(summary, images, rendermime);
  const text = summary ? summary.text || `[${summary.output_type}]` : '';
  return (
    <div className="jp-mlops-diff-output-view">
      {view.kind !== 'images' && props.labelled && (
        <div className="jp-mlops-muted jp-mlops-diff-side">{side}</div>
      )}
      {view.kind === 'mime' && rendermime && summary ? (
        <RenderedMime
          rendermime={rendermime}
          mime={view.mime}
          data={summary.data}
          fallback={text}
        />
      ) : view.kind === 'images' ? (
        images.map((image, i) => (
          <OutputImage key={i} image={image} side={side} />
        ))
      ) : (
        <pre className="jp-mlops-code">{text}</pre>
      )}
      {summary?.data_note && (
        <div className="jp-mlops-muted">{summary.data_note}</div>
      )}
    </div>
  );
}
