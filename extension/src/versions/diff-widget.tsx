/**
 * A notebook diff in the main area, where there is room to read it.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { MlopsAPI } from '../api';
import { NotebookDiff } from './notebook-diff';
import { DiffSide, diffTitle } from './versions-model';

/** Shows one {@link NotebookDiff} in a main-area tab. */
export class NotebookDiffWidget extends ReactWidget {
  /**
   * @param diff the diff; @param sides older and newer side; @param path the notebook;
   * @param rendermime the app's registry, to render outputs untrusted (text without it).
   */
  constructor(
    readonly diff: MlopsAPI.IDiffNotebooksResponse,
    readonly sides: [DiffSide, DiffSide],
    readonly path: string,
    readonly rendermime: IRenderMimeRegistry | null = null
  ) {
    super();
    this.addClass('jp-mlops-diff-widget');
    this.title.label = diffTitle(path, sides);
    this.title.caption = `Cell-by-cell diff of ${path}`;
    this.title.closable = true;
  }

  render(): JSX.Element {
    return (
      <NotebookDiff
        diff={this.diff}
        sides={this.sides}
        rendermime={this.rendermime}
      />
    );
  }
}
