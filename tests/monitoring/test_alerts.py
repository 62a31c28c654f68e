"""Alert rules: parsing, incidents opening/staying/resolving, notifications, scheduler evaluation.

Time is injected (the scheduler's clocks) and the monitoring windows come from an injected
``summarize`` that answers with real :class:`WindowSummary` objects, so a day of minutes runs
in a second; the webhook is a real HTTP server on 127.0.0.1 and the command a real process.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time

import pytest

from kernel_magics.core.monitoring import alerts_api as api
from kernel_magics.core.monitoring.alerts import evaluate_due, parse_condition
from kernel_magics.core.monitoring.windows import METRICS, WindowSummary
from kernel_magics.core.scheduler.clock import ManualClock, ScaledClock
from kernel_magics.core.scheduler.daemon import Scheduler
from kernel_magics.errors import (
    AlertNotFoundError,
    ConflictError,
    InvalidAlertError,
    ModelNotFoundError,
)

START = 1_798_761_600.0  # 2027-01-01 00:00 UTC, a multiple of every window used here


def register_churn(store):
    """Register a small model ``churn`` in ``store``; return its version record."""
    from churn_data import churn_frame
    from sklearn.linear_model import LogisticRegression

    from kernel_magics.core.registry.api import log_model

    frame, target = churn_frame(60)
    fitted = LogisticRegression(max_iter=500).fit(frame, target)
    return log_model(fitted, "churn", frame.head(5), store=store)


@pytest.fixture
def model(store):
    """A registered model ``churn`` (alert rules refuse unknown models)."""
    return register_churn(store)


class FakeMonitoring:
    """``summarize`` answering with the values the test sets; records every call."""

    def __init__(self, **values):
        self.values = dict(values)
        self.enough = True
        self.calls: list[tuple[str, float]] = []
        self.windows: list[tuple[float, float]] = []  # (window_s, until) of every call
        self.lock = threading.Lock()

    def __call__(self, store, model_ref, *, since, until, window_s):
        with self.lock:
            self.calls.append((model_ref, until))
            self.windows.append((window_s, until))
        values = dict.fromkeys(METRICS)
        values.update(self.values)
        start = until // window_s * window_s
        rows = 500 if self.enough else 3
        return [WindowSummary(start, until, rows, self.enough, values)]


class Webhook:
    """A real HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


def scheduler(store, clock, fake, **kw):
    return Scheduler(store, clock=clock, poll_interval=5.0, lease=60.0, alert_summarize=fake, **kw)


def run_minutes(s, clock, minutes):
    """Tick every 5 s of manual time for ``minutes`` minutes."""
    for _ in range(minutes * 12):
        clock.advance(5)
        s.tick()


# -- rules are checked when they are created ------------------------------------------------------
def test_a_typo_is_refused_with_the_valid_names(model):
    with pytest.raises(InvalidAlertError) as info:
        api.add_alert("quality", "churn@production", ["drift.share > 0.3", "acuracy < 0.85"])
    message = str(info.value)
    assert "Unknown metric 'acuracy'" in message and "Did you mean 'accuracy'?" in message
    assert all(name in message for name in METRICS)
    assert api.list_alerts() == []


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"when": "accuracy 0.85"}, "write METRIC OP NUMBER"),
        ({"when": "accuracy < high"}, "is not a finite number"),
        ({"when": "accuracy == 0.8"}, "write METRIC OP NUMBER"),
        ({"when": []}, "needs a condition"),
        ({"window": "an hour"}, "Cannot read the window"),
        ({"window": "10s"}, "between 1m and 30d"),
        ({"notify": "email:me@example.com"}, "command:PROGRAM"),
        ({"notify": "webhook:file:///etc/passwd"}, "is not an http(s) URL"),
        ({"notify": "command:'unclosed"}, "Cannot parse"),
        ({"model": "churn/zero"}, "positive integer"),
    ],
)
def test_bad_rules_are_refused_before_anything_is_stored(model, kwargs, expected):
    args = {"model": "churn", "when": "accuracy < 0.85", **kwargs}
    with pytest.raises(InvalidAlertError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        api.add_alert("quality", args.pop("model"), args.pop("when"), **args)
    assert api.list_alerts() == []


def test_unknown_model_duplicate_and_missing_names(model):
    with pytest.raises(ModelNotFoundError):
        api.add_alert("q", "nochurn@production", "accuracy < 0.85")
    rule = api.add_alert("q", "churn@production", [" accuracy<0.85 ", "latency.p99_ms > 100"],
                         window="15m", notify=["webhook:http://127.0.0.1:9/x"])  # fmt: skip
    assert rule.conditions == ("accuracy < 0.85", "latency.p99_ms > 100")
    assert rule.window_s == 900 and rule.notify == ("webhook:http://127.0.0.1:9/x",)
    with pytest.raises(ConflictError, match="exists already"):
        api.add_alert("q", "churn", "accuracy < 0.9")
    with pytest.raises(AlertNotFoundError, match="No alert named 'nope'. Known alerts: q"):
        api.remove_alert("nope")
    assert api.remove_alert("q").name == "q" and api.list_alerts() == []


def test_condition_semantics():
    c = parse_condition("errors.rate >= 0.01")
    assert (c.holds(0.01), c.holds(0.009), c.holds(None)) == (True, False, None)


# -- the incident state machine -------------------------------------------------------------------
def test_incident_opens_once_stays_open_resolves_and_notifies_once(store, model, webhook):
    # Given a rule on accuracy, a scheduler on a manual clock and healthy figures
    clock = ManualClock(START)
    fake = FakeMonitoring(accuracy=0.95, **{"errors.rate": 0.0})
    api.add_alert("quality", "churn@production", ["accuracy < 0.85", "errors.rate > 0.01"],
                  window="1h", notify=f"webhook:{webhook.url}", store=store)  # fmt: skip
    s = scheduler(store, clock, fake)
    run_minutes(s, clock, 3)
    assert api.alert_history(store=store) == [] and webhook.received == []

    # When accuracy drops for five minutes
    fake.values["accuracy"] = 0.80
    run_minutes(s, clock, 5)
    # Then one incident is open, with the value that broke, and one message was sent
    (incident,) = api.alert_history(store=store)
    assert incident.is_open and incident.broken == {"accuracy < 0.85": 0.8}
    assert incident.notified_at == incident.opened_at and incident.notify_error is None
    assert incident.last_seen_at == incident.opened_at + 4 * 60
    assert len(webhook.received) == 1
    sent = webhook.received[0]
    assert sent["event"] == "alert_opened" and sent["alert"] == "quality"
    assert sent["model"] == "churn@production" and sent["incident"] == incident.id
    assert sent["values"] == {"accuracy < 0.85": 0.8} and sent["window"]["seconds"] == 3600

    # When the window has too little data, nothing changes (it stays open)
    fake.enough = False
    fake.values["accuracy"] = 0.99
    run_minutes(s, clock, 2)
    assert api.alert_history(store=store)[0].is_open

    # When the figures recover, it resolves; no message for that
    fake.enough = True
    run_minutes(s, clock, 2)
    (resolved,) = api.alert_history(store=store)
    assert not resolved.is_open and resolved.resolved_at > resolved.opened_at
    assert len(webhook.received) == 1

    # When it breaks again, a second incident and a second message
    fake.values["errors.rate"] = 0.05
    run_minutes(s, clock, 3)
    newest, older = api.alert_history(store=store)
    assert newest.is_open and newest.broken == {"errors.rate > 0.01": 0.05}
    assert [m["incident"] for m in webhook.received] == [older.id, newest.id]


def test_not_enough_data_never_opens_an_incident(store, model):
    clock = ManualClock(START)
    fake = FakeMonitoring(accuracy=0.1, **{"drift.share": 0.9})
    fake.enough = False
    api.add_alert("drift", "churn", ["drift.share > 0.3", "accuracy < 0.85"], store=store)
    run_minutes(scheduler(store, clock, fake), clock, 5)
    assert len(fake.calls) == 6 and api.alert_history(store=store) == []  # minutes 0..5


def test_an_unknown_value_neither_opens_nor_resolves(store, model):
    # accuracy is None until labels arrive: it cannot resolve an incident drift opened
    clock = ManualClock(START)
    fake = FakeMonitoring(**{"drift.share": 0.5})
    api.add_alert("both", "churn", ["drift.share > 0.3", "accuracy < 0.85"], store=store)
    s = scheduler(store, clock, fake)
    run_minutes(s, clock, 1)
    fake.values["drift.share"] = 0.1
    run_minutes(s, clock, 2)
    assert api.alert_history(store=store)[0].is_open
    fake.values["accuracy"] = 0.9
    run_minutes(s, clock, 1)
    assert not api.alert_history(store=store)[0].is_open


def test_a_command_notifier_runs_once_per_incident(store, model, tmp_path):
    out = tmp_path / "messages.jsonl"
    script = f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read() + chr(10))"
    clock = ManualClock(START)
    fake = FakeMonitoring(**{"latency.p99_ms": 250.0})
    api.add_alert("slow", "churn", "latency.p99_ms > 100", notify=[
        f"command:{sys.executable} -c {json.dumps(script)}"], store=store)  # fmt: skip
    run_minutes(scheduler(store, clock, fake), clock, 4)
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["values"] == {"latency.p99_ms > 100": 250.0}


def test_a_failing_notifier_is_recorded_not_raised(store, model):
    clock = ManualClock(START)
    fake = FakeMonitoring(**{"errors.rate": 0.2})
    api.add_alert("errors", "churn", "errors.rate > 0.01",
                  notify=["command:false", "webhook:http://127.0.0.1:9/none"], store=store)  # fmt: skip
    run_minutes(scheduler(store, clock, fake), clock, 2)
    (incident,) = api.alert_history(store=store)
    assert "notify command exited 1" in incident.notify_error
    assert "webhook http://127.0.0.1:9/none failed" in incident.notify_error


def test_paused_rules_are_not_evaluated(store, model):
    fake = FakeMonitoring(accuracy=0.1)
    api.add_alert("quality", "churn", "accuracy < 0.85", store=store)
    api.pause_alert("quality", store=store)
    assert evaluate_due(store, START, fake) == [] and fake.calls == []
    api.resume_alert("quality", store=store)
    (done,) = evaluate_due(store, START + 30, fake)
    assert done.change == "opened" and fake.calls == [("churn", START)]


def test_rules_on_the_same_model_and_window_read_it_once_a_minute(store, model):
    fake = FakeMonitoring(accuracy=0.5, **{"drift.share": 0.1})
    api.add_alert("acc", "churn", "accuracy < 0.85", store=store)
    api.add_alert("drift", "churn", "drift.share > 0.3", store=store)
    api.add_alert("drift-day", "churn", "drift.share > 0.3", window="1d", store=store)
    done = {t.rule: t.change for t in evaluate_due(store, START, fake)}
    assert done == {"acc": "opened", "drift": "none", "drift-day": "none"}
    assert len(fake.calls) == 2  # 1h (shared by two rules) and 1d


# -- the schedulers that already run evaluate rules -----------------------------------------------
def test_two_scheduler_loops_evaluate_each_rule_once_per_minute(any_store):
    # Given two rules and two schedulers (each with its own store connection) on one clock
    from kernel_magics.core.store import Store

    store = any_store
    register_churn(store)
    api.add_alert("a", "churn", "accuracy < 0.85", window="1h", store=store)
    api.add_alert("b", "churn", "drift.share > 0.3", window="2h", store=store)
    # (one evaluation first, so imports are done before time starts running fast)
    assert len(evaluate_due(store, START - 60, FakeMonitoring(accuracy=0.9))) == 2
    clock = ScaledClock(START + 1, speed=30.0)  # a minute every two real seconds
    fakes = [FakeMonitoring(accuracy=0.9), FakeMonitoring(accuracy=0.9)]
    other = Store(store.location)
    loops = [scheduler(st, clock, fake) for st, fake in zip((store, other), fakes, strict=True)]
    stop = threading.Event()
    threads = [threading.Thread(target=s.run, args=(stop,)) for s in loops]
    # When both loops run for about five minutes of scheduler time
    for t in threads:
        t.start()
    time.sleep(10.0)
    stop.set()
    for t in threads:
        t.join(30)
    other.close()
    # Then every minute was evaluated exactly once per rule, with no minute skipped
    calls = sorted(c for f in fakes for c in f.windows)
    minutes = sorted({until for _, until in calls})
    assert len(minutes) >= 3
    assert calls == sorted((w, m) for m in minutes for w in (3600.0, 7200.0))
    assert minutes == [minutes[0] + 60 * i for i in range(len(minutes))]
    rules = {r.name: r.evaluated_at for r in api.list_alerts(store=store)}
    assert rules == {"a": minutes[-1], "b": minutes[-1]}


# -- end to end: buckets in the store, the real window summaries, a real webhook -----------------
def test_real_buckets_open_and_resolve_through_summarize(store, model, webhook):
    from kernel_magics.core.monitoring.counts import latency_counts

    def minute_bucket(at, errors, latency_ms):
        store.monitoring.add_bucket(
            model.id, source="serving", start=at, seconds=60.0, requests=30, errors=errors,
            rows=30, latency=latency_counts([latency_ms] * 30), features={}, prediction=None,
        )  # fmt: skip

    # Given a 5-minute rule and five minutes of traffic with 10% errors
    api.add_alert("errors", "churn", ["errors.rate > 0.01", "latency.p99_ms > 100"],
                  window="5m", notify=f"webhook:{webhook.url}", store=store)  # fmt: skip
    for m in range(5):
        minute_bucket(START + 60 * m, errors=3, latency_ms=20.0)
    clock = ManualClock(START + 295)
    s = Scheduler(store, clock=clock, poll_interval=5.0, lease=60.0)  # summarize for real
    # When the scheduler reaches the end of that window
    run_minutes(s, clock, 1)
    # Then an incident opened with the error rate that broke, and the webhook heard of it
    (incident,) = api.alert_history(store=store)
    assert incident.is_open and incident.broken == {"errors.rate > 0.01": 0.1}
    assert (incident.window_start, incident.window_end) == (START, START + 300)
    assert [m["values"] for m in webhook.received] == [{"errors.rate > 0.01": 0.1}]
    # When the next window starts clean, its first minute has too few rows: still open
    minute_bucket(START + 300, errors=0, latency_ms=20.0)
    run_minutes(s, clock, 1)
    assert api.alert_history(store=store)[0].is_open
    # When the clean window holds enough rows (100: at its fifth minute), the incident
    # resolves; no second message
    for m in range(6, 10):
        minute_bucket(START + 60 * m, errors=0, latency_ms=20.0)
    run_minutes(s, clock, 4)
    (resolved,) = api.alert_history(store=store)
    assert resolved.resolved_at == START + 540 and len(webhook.received) == 1


@pytest.mark.slow
def test_two_scheduler_processes_notify_once_per_incident(store, model, webhook):
    # Given an hour of traffic with 10% errors and a rule that notifies a real webhook
    import os
    import signal
    import subprocess
    from pathlib import Path

    from kernel_magics.core.monitoring.counts import latency_counts

    for m in range(60):
        store.monitoring.add_bucket(
            model.id, source="serving", start=START + 60 * m, seconds=60.0, requests=20,
            errors=2, rows=20, latency=latency_counts([8.0] * 20), features={}, prediction=None,
        )  # fmt: skip
    api.add_alert("errors", "churn", "errors.rate > 0.01", window="1h",
                  notify=f"webhook:{webhook.url}", store=store)  # fmt: skip
    # When two scheduler processes share a clock running a minute every two seconds
    origin = time.time() + 5.0  # both read START + 3600 five real seconds from now
    cmd = [sys.executable, str(Path(__file__).with_name("alerts_worker.py")),
           "--start", str(START + 3600), "--speed", "30", "--origin", str(origin)]  # fmt: skip
    procs = [subprocess.Popen(cmd, env=dict(os.environ)) for _ in range(2)]
    try:
        time.sleep(5.0 + 12.0)  # about six minutes of scheduler time
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(60) for p in procs]
    # Then one incident, kept open minute after minute, and exactly one message
    assert codes == [0, 0]
    history = api.alert_history(store=store)
    assert len(history) == 1, [(i.opened_at - START, i.resolved_at and i.resolved_at - START,
                                i.broken) for i in history]  # fmt: skip
    (incident,) = history
    assert incident.is_open and incident.broken == {"errors.rate > 0.01": 0.1}
    assert incident.last_seen_at - incident.opened_at >= 60  # seen again a minute later (or more)
    assert len(webhook.received) == 1 and webhook.received[0]["incident"] == incident.id
