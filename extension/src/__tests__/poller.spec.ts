import { Poller } from '../panel/poller';

/** Let pending promise callbacks run (fake timers do not advance microtasks). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

describe('Poller', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('polls at once on start, then backs off while nothing changes', async () => {
    const poll = jest.fn().mockResolvedValue(false);
    const poller = new Poller(poll, { interval: 1000, maxInterval: 5000 });
    poller.start();
    await flush();
    expect(poll).toHaveBeenCalledTimes(1);
    expect(poller.currentInterval).toBe(2000);

    jest.advanceTimersByTime(1999);
    await flush();
    expect(poll).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1);
    await flush();
    expect(poll).toHaveBeenCalledTimes(2);
    expect(poller.currentInterval).toBe(4000);

    jest.advanceTimersByTime(4000);
    await flush();
    expect(poller.currentInterval).toBe(5000); // capped at maxInterval
    poller.stop();
  });

  it('returns to the base interval after a change', async () => {
    const results = [false, false, true];
    const poll = jest.fn(async () => results.shift() ?? false);
    const poller = new Poller(poll, { interval: 100, maxInterval: 10000 });
    poller.start();
    await flush();
    jest.advanceTimersByTime(200);
    await flush();
    expect(poller.currentInterval).toBe(400);
    jest.advanceTimersByTime(400);
    await flush();
    expect(poll).toHaveBeenCalledTimes(3);
    expect(poller.currentInterval).toBe(100);
    poller.stop();
  });

  it('backs off on errors and counts them', async () => {
    const poll = jest.fn().mockRejectedValue(new Error('down'));
    const poller = new Poller(poll, { interval: 100, maxInterval: 1000 });
    poller.start();
    await flush();
    expect(poller.failures).toBe(1);
    expect(poller.currentInterval).toBe(200);
    jest.advanceTimersByTime(200);
    await flush();
    expect(poller.failures).toBe(2);
    poller.stop();
  });

  it('poke polls now and resets the backoff', async () => {
    const poll = jest.fn().mockResolvedValue(false);
    const poller = new Poller(poll, { interval: 100, maxInterval: 10000 });
    poller.start();
    await flush();
    jest.advanceTimersByTime(200);
    await flush();
    expect(poller.currentInterval).toBe(400);
    await poller.poke();
    expect(poll).toHaveBeenCalledTimes(3);
    expect(poller.currentInterval).toBe(200); // reset to 100, then one quiet poll
    poller.stop();
  });

  it('stop cancels the timer', async () => {
    const poll = jest.fn().mockResolvedValue(true);
    const poller = new Poller(poll, { interval: 100, maxInterval: 1000 });
    poller.start();
    await flush();
    poller.stop();
    jest.advanceTimersByTime(10000);
    await flush();
    expect(poll).toHaveBeenCalledTimes(1);
    expect(poller.running).toBe(false);
  });

  it('never runs two polls at once; a poke during a poll polls again after it', async () => {
    let release: (v: boolean) => void = () => undefined;
    let concurrent = 0;
    let maxConcurrent = 0;
    const poll = jest.fn(
      () =>
        new Promise<boolean>(resolve => {
          concurrent += 1;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          release = v => {
            concurrent -= 1;
            resolve(v);
          };
        })
    );
    const poller = new Poller(poll, { interval: 100, maxInterval: 1000 });
    poller.start();
    const poked = poller.poke();
    release(false);
    await flush();
    release(false);
    await poked;
    expect(maxConcurrent).toBe(1);
    expect(poll).toHaveBeenCalledTimes(2);
    poller.stop();
  });
});
