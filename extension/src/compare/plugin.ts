/**
 * The Compare plugin: the `compare-runs` command (a main-area tab per comparison) and the
 * renderer of `%mlops compare`'s output, whose bundle carries the run ids under
 * {@link COMPARE_MIME_TYPE} so the notebook opens the same view the panel does.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  InputDialog,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { mlopsIcon } from '../icons';
import { CommandIDs, PACKAGE_NAME } from '../tokens';
import { CompareWidget } from './compare-widget';

/** MIME type of `%mlops compare`'s request (kernel_magics/kernel/widgets/run_reports.py). */
export const COMPARE_MIME_TYPE = 'application/vnd.jupyter-mlops.compare+json';

/** How recent a `%mlops compare` output must be to open its tab by itself (seconds). */
export const FRESH_OUTPUT_SECONDS = 30;

/** The data of a compare request in a notebook output. */
export interface ICompareRequest {
  /** Full run ids, baseline first. */
  run_ids: string[];
  /** When the magic ran (UTC epoch seconds). */
  created_at: number;
}

/** The run ids of a request, or null when the data is not one. */
export function parseCompareRequest(data: unknown): ICompareRequest | null {
  const value = data as Partial<ICompareRequest> | null;
  if (
    !value ||
    !Array.isArray(value.run_ids) ||
    value.run_ids.length < 2 ||
    !value.run_ids.every(
      id => typeof id === 'string' && /^[0-9a-f]{1,32}$/.test(id)
    )
  ) {
    return null;
  }
  return { run_ids: value.run_ids, created_at: Number(value.created_at) || 0 };
}

/**
 * Whether an output should open its comparison by itself: only one the kernel just produced,
 * not one read back from a saved notebook (that would open tabs on every reopen).
 */
export function isFresh(
  request: ICompareRequest,
  now = Date.now() / 1000
): boolean {
  return Math.abs(now - request.created_at) <= FRESH_OUTPUT_SECONDS;
}

/** Renders a compare request as a button (and opens it once when fresh). */
class CompareRequestRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(
    private readonly open: (ids: string[]) => Promise<void>,
    private readonly opened: Set<string>
  ) {
    super();
    this.addClass('jp-mlops-compare-request');
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const request = parseCompareRequest(model.data[COMPARE_MIME_TYPE]);
    this.node.textContent = '';
    if (!request) {
      this.node.textContent =
        'Not a comparison request (needs two or more run ids).';
      return;
    }
    const button = document.createElement('button');
    button.className = 'jp-mlops-button jp-mlops-primary';
    button.textContent = `Open the comparison of ${request.run_ids.length} runs`;
    button.onclick = () => void this.open(request.run_ids);
    this.node.appendChild(button);
    const key = `${request.created_at}:${request.run_ids.join(',')}`;
    if (isFresh(request) && !this.opened.has(key)) {
      this.opened.add(key);
      await this.open(request.run_ids);
    }
  }
}

/** The Compare plugin. */
export const comparePlugin: JupyterFrontEndPlugin<void> = {
  id: `${PACKAGE_NAME}:compare`,
  description:
    'Compare runs in the main area; renders %mlops compare requests.',
  autoStart: true,
  optional: [IRenderMimeRegistry, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget<CompareWidget>>({
      namespace: 'jupyter-mlops-compare'
    });
    let count = 0;
    const open = async (ids: string[]): Promise<void> => {
      const content = new CompareWidget(ids, undefined, rendermime);
      const widget = new MainAreaWidget({ content });
      widget.id = `jp-mlops-compare-${++count}`;
      widget.title.label = content.title.label;
      widget.title.caption = content.title.caption;
      widget.title.icon = mlopsIcon;
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      await tracker.add(widget);
    };
    app.commands.addCommand(CommandIDs.compareRuns, {
      label: 'Compare runs',
      caption: 'Params, curves and code of two or more runs side by side',
      icon: mlopsIcon,
      execute: async args => {
        let ids = (args.ids as string[] | undefined) ?? [];
        if (ids.length < 2) {
          const answer = await InputDialog.getText({
            title: 'Compare runs',
            label:
              'Run ids (or unique prefixes), separated by commas; the first is the baseline',
            placeholder: '3f9a1c, 77b2e0'
          });
          if (!answer.button.accept || !answer.value) {
            return;
          }
          ids = answer.value.split(/[\s,]+/).filter(Boolean);
        }
        await open(ids);
      }
    });
    restorer?.restore(tracker, {
      command: CommandIDs.compareRuns,
      args: widget => ({ ids: widget.content.model.state.ids }),
      name: widget => widget.content.model.state.ids.join(',')
    });
    const opened = new Set<string>();
    rendermime?.addFactory(
      {
        safe: true,
        mimeTypes: [COMPARE_MIME_TYPE],
        createRenderer: () => new CompareRequestRenderer(open, opened)
      },
      0
    );
  }
};
