import 'uplot/dist/uPlot.min.css';
import './base.css';
import './lifecycle.css';
import './compare.css';
import './lineage.css';
import './notes.css';
