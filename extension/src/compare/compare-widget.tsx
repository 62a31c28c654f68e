/**
 * The Compare view as a Lumino widget for the main area (wrapped in a MainAreaWidget by the
 * plugin), loading its comparison once when created.
 */
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import type { IDiffRenderMime } from '../versions/output-view';
import { CompareModel } from './compare-model';
import { CompareView } from './compare-view';

/** A comparison of runs in a main-area tab. */
export class CompareWidget extends ReactWidget {
  /**
   * @param runIds the runs, baseline first.
   * @param onOpenRun open a run in the side panel.
   * @param rendermime the app's registry: the code diff renders outputs through it, untrusted.
   */
  constructor(
    runIds: string[],
    private readonly onOpenRun?: (runId: string) => void,
    private readonly rendermime: IDiffRenderMime | null = null
  ) {
    super();
    this.addClass('jp-mlops-compare-widget');
    this.model = new CompareModel(runIds);
    this.model.onChange = () => this.update();
    this.title.label = `Compare ${runIds.length} runs`;
    this.title.caption = runIds.join(', ');
    this.ready = this.model.load();
  }

  /** The comparison's state holder. */
  readonly model: CompareModel;

  /** Resolves when the comparison (and its first curves) have loaded. */
  readonly ready: Promise<void>;

  render(): JSX.Element {
    return (
      <CompareView
        model={this.model}
        state={this.model.state}
        onOpenRun={this.onOpenRun}
        rendermime={this.rendermime}
      />
    );
  }
}
