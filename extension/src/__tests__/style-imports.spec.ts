/// <reference types="node" />
/**
 * The built extension loads its CSS through `style/index.js` (package.json `styleModule`);
 * `style/index.css` is what `jupyter labextension develop` and other tools read. A stylesheet
 * missing from either ships unstyled (the lineage graph once rendered as a heap of text).
 */
import * as fs from 'fs';
import * as path from 'path';

const STYLE = path.join(__dirname, '..', '..', 'style');

function sheets(): string[] {
  return fs
    .readdirSync(STYLE)
    .filter(f => f.endsWith('.css') && f !== 'index.css')
    .sort();
}

describe('style entry points', () => {
  it('style/index.js imports every stylesheet in style/', () => {
    const js = fs.readFileSync(path.join(STYLE, 'index.js'), 'utf8');
    const imported = [...js.matchAll(/import '\.\/([\w-]+\.css)'/g)].map(
      m => m[1]
    );
    expect(imported.sort()).toEqual(sheets());
  });

  it('style/index.css imports every stylesheet in style/', () => {
    const css = fs.readFileSync(path.join(STYLE, 'index.css'), 'utf8');
    const imported = [...css.matchAll(/@import url\('([\w-]+\.css)'\)/g)].map(
      m => m[1]
    );
    expect(imported.sort()).toEqual(sheets());
  });
});
