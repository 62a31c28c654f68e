import { alignSeries, canLogScale, seriesColour } from '../runs/chart-data';

const pts = (pairs: [number, number][]) =>
  pairs.map(([step, value]) => ({ step, timestamp: step, value }));

describe('alignSeries', () => {
  it('puts every run on the union of the steps, with gaps where a run has no point', () => {
    const aligned = alignSeries([
      {
        label: 'a',
        points: pts([
          [0, 1],
          [2, 3]
        ])
      },
      {
        label: 'b',
        points: pts([
          [1, 10],
          [2, 20],
          [5, 50]
        ])
      }
    ]);
    expect(aligned.steps).toEqual([0, 1, 2, 5]);
    expect(aligned.values).toEqual([
      [1, null, 3, null],
      [null, 10, 20, 50]
    ]);
  });

  it('keeps the last value of a step logged twice', () => {
    const aligned = alignSeries([
      {
        label: 'a',
        points: pts([
          [1, 5],
          [1, 7]
        ])
      }
    ]);
    expect(aligned.values).toEqual([[7]]);
  });

  it('turns values a log axis cannot place into gaps only on the log scale', () => {
    const series = [
      {
        label: 'a',
        points: pts([
          [0, 0],
          [1, -2],
          [2, 0.5]
        ])
      }
    ];
    expect(alignSeries(series, true).values).toEqual([[null, null, 0.5]]);
    expect(alignSeries(series, false).values).toEqual([[0, -2, 0.5]]);
    expect(canLogScale(series)).toBe(true);
    expect(canLogScale([{ label: 'z', points: pts([[0, 0]]) }])).toBe(false);
  });
});

describe('seriesColour', () => {
  it('uses the theme colours first and distinct hues after them', () => {
    const theme = (name: string) =>
      name === '--jp-brand-color1' ? ' #1976d2 ' : '';
    expect(seriesColour(0, theme)).toBe('#1976d2');
    // a theme variable that is not defined falls back to a hue
    expect(seriesColour(1, theme)).toMatch(/^hsl\(\d+, 65%, 50%\)$/);
    const hues = new Set(
      Array.from({ length: 50 }, (_, i) => seriesColour(i + 6))
    );
    expect(hues.size).toBe(50);
  });
});
