import { linePath } from '../runs/metric-chart';

describe('linePath', () => {
  it('is empty without points', () => {
    expect(linePath([])).toBe('');
  });

  it('scales steps to the width and values to the height, top is the maximum', () => {
    const path = linePath([
      { step: 0, timestamp: 0, value: 0 },
      { step: 5, timestamp: 1, value: 10 },
      { step: 10, timestamp: 2, value: 5 }
    ]);
    // box 240 x 90 with a 4 px margin: x in [4, 236], y in [4, 86] (SVG y grows downwards)
    expect(path).toBe('M4.0,86.0 L120.0,4.0 L236.0,45.0');
  });

  it('draws a flat series in the middle of nothing but does not divide by zero', () => {
    const path = linePath([
      { step: 3, timestamp: 0, value: 1 },
      { step: 3, timestamp: 1, value: 1 }
    ]);
    expect(path).not.toContain('NaN');
    expect(path.startsWith('M4.0,86.0')).toBe(true);
  });
});
