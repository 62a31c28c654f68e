/**
 * The side panel's icon: a flask over a rising line, drawn with JupyterLab's icon colours.
 */
import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M9 2h6v2h-1v5.2l5.6 9.3A2.3 2.3 0 0 1 17.6 22H6.4a2.3 2.3 0 0 1-2-3.5L10 9.2V4H9V2zm3 8.3-2.7 4.7h5.4L12 10.3z"/>
  </g>
</svg>`;

/** The jupyter-mlops icon (left sidebar tab). */
export const mlopsIcon = new LabIcon({
  name: 'jupyter-mlops:icon',
  svgstr: svg
});
