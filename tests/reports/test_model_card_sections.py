"""Each section of a model card shows what the store holds for the version, as a reader sees it.

One version, ``churn/1``, is given everything a card can show, through the same calls a user's
notebook and terminal make: a training run that logged ``train@3`` from a notebook (the data
store holds other datasets' versions first, so the version's number is not its row id), a
stored ``mlops test`` result with a passing and a failing check, a monitored production batch
with labels and drift, two alias moves by two people, a note, and a typed input example. The
card is written with ``mlops models card`` (HTML and Markdown) and read back per section.
"""

from __future__ import annotations

import getpass
import json
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from html_urls import external, page_urls

from kernel_magics.cli import cli

NOTE = ('Approved by risk <img src="https://tracker.example.com/p.png"> for the Q3 campaign; '
        "see https://wiki.example.com/churn")  # fmt: skip
INTENDED = "Rank customers for retention calls ([policy](https://policy.example.com/use))."
FEATURES = ["tenure", "charges", "support_calls"]


class _Sections(HTMLParser):
    """A card page as ``{section id: {"tables": {heading: rows}, "text": str, "fields": {}}}``.

    Each table is keyed by the nearest heading above it (h2/h3) and holds its body rows as
    lists of cell text; ``text`` is all the section's text; ``fields`` its ``<dl>`` pairs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict] = {}
        self._section: dict | None = None
        self._heading: str | None = None
        self._capture: str | None = None  # "heading", "cell", "dt", "dd"
        self._buffer = ""
        self._rows: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._term = ""

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "section":
            self._section = {"tables": {}, "text": "", "fields": {}}
            self.sections[values.get("id", "")] = self._section
        elif tag in ("h2", "h3"):
            self._capture, self._buffer = "heading", ""
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._capture, self._buffer = "cell", ""
        elif tag in ("dt", "dd"):
            self._capture, self._buffer = tag, ""

    def handle_endtag(self, tag):
        if tag in ("h2", "h3") and self._capture == "heading":
            self._heading, self._capture = self._buffer.strip(), None
        elif tag == "td" and self._capture == "cell" and self._row is not None:
            self._row.append(self._buffer.strip())
            self._capture = None
        elif tag == "tr" and self._row is not None:
            if self._row and self._rows is not None:
                self._rows.append(self._row)
            self._row = None
        elif tag == "table" and self._rows is not None and self._section is not None:
            self._section["tables"][self._heading] = self._rows
            self._rows = None
        elif tag == "dt" and self._capture == "dt":
            self._term, self._capture = self._buffer.strip(), None
        elif tag == "dd" and self._capture == "dd" and self._section is not None:
            self._section["fields"][self._term] = self._buffer.strip()
            self._capture = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._capture:
            self._buffer += data
        if self._section is not None:
            self._section["text"] += data


def sections(html: str) -> dict[str, dict]:
    parser = _Sections()
    parser.feed(html)
    return parser.sections


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    """Build churn/1 with everything, write its card as HTML and Markdown; return the facts."""
    import sys

    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from churn_data import churn_frame
    from report_fixtures import notebook

    import kernel_magics as mlops
    from kernel_magics.core.actor import acting_as
    from kernel_magics.core.data import store_dataset
    from kernel_magics.core.model_tests import run_model_tests
    from kernel_magics.core.notebooks import record_notebook_version
    from kernel_magics.core.store import close_stores, open_store

    folder = tmp_path_factory.mktemp("card")
    with pytest.MonkeyPatch.context() as env:
        for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
            env.delenv(var, raising=False)
        env.setenv("MLOPS_HOME", str(folder / ".mlops"))
        env.chdir(folder)
        store = open_store()
        # a holdout stored first, then two older versions of train: train@3 is row id 4
        holdout, holdout_y = churn_frame(300, seed=5)
        store_dataset(store, holdout.assign(churned=holdout_y), "churn-holdout")
        for seed in (2, 3):
            older, older_y = churn_frame(100, seed=seed)
            store_dataset(store, older.assign(churned=older_y), "train")
        # the training run, from a notebook, logging train@3 and a metric
        train, train_y = churn_frame(600, seed=1)
        path = folder / "train.ipynb"
        path.write_text(json.dumps(notebook("model = LogisticRegression().fit(X, y)\n")))
        run = mlops.start_run("churn", name="lr-600", notebook_path=str(path), store=store)
        logged = run.log_dataset(train.assign(churned=train_y), "train")
        assert (logged["ref"], logged["version_id"]) == ("train@3", 4)
        run.log_metric("accuracy", 0.97)
        notebook_version = record_notebook_version(store, path)
        store.runs.set_fields(run.id, notebook_version_id=notebook_version)
        model = LogisticRegression(max_iter=500).fit(train, train_y)
        mlops.log_model(model, "churn", train.head(3), training_data=train, run=run, store=store)
        mlops.end_run()
        # two alias moves by two people
        store.models.set_alias("churn", "staging", 1)
        with acting_as("ada"):
            store.models.set_alias("churn", "production", 1, reason="passed review")
        # mlops test on the holdout: one condition passes, one fails
        run_model_tests(store, "churn/1", holdout="churn-holdout@1",
                        conditions=["accuracy >= 0.7", "accuracy >= 0.999"])  # fmt: skip
        # a production batch two hours ago whose tenure drifted, then its labels
        batch, batch_y = churn_frame(400, seed=9)
        batch["tenure"] = batch["tenure"] + 40
        batch.insert(0, "customer_id", [f"c{i}" for i in range(len(batch))])
        mlops.monitor(batch, model="churn@production", id_column="customer_id",
                      at=time.time() - 2 * 3600, store=store)  # fmt: skip
        mlops.log_labels("churn@production", batch["customer_id"], batch_y.to_numpy(),
                         store=store)  # fmt: skip
        # a note, and the intended use, each holding a URL
        store.notes.add("model_version", "churn/1", NOTE)
        runner = CliRunner()
        for args in (["--set", f"intended_use={INTENDED}"], ["-o", "card.html"],
                     ["-o", "card.md"]):  # fmt: skip
            done = runner.invoke(cli, ["models", "card", "churn/1", *args],
                                 catch_exceptions=False)  # fmt: skip
            assert done.exit_code == 0, done.output
        facts = {
            "run_id": run.id,
            "notebook": str(path),
            "notebook_version": notebook_version,
            "example": train.head(3),
            "train_rows": len(train),
            "holdout_accuracy": accuracy_score(holdout_y, model.predict(holdout)),
            "production_accuracy": accuracy_score(batch_y, model.predict(batch[FEATURES])),
            "html": (folder / "card.html").read_text(encoding="utf-8"),
            "md": (folder / "card.md").read_text(encoding="utf-8"),
        }
        close_stores()
    assert isinstance(facts["example"], pd.DataFrame)
    facts["sections"] = sections(facts["html"])
    return facts


def test_the_overview_names_the_run_and_the_notebook_that_produced_it(card):
    fields = card["sections"]["overview"]["fields"]
    assert fields["Version"] == "churn/1"
    assert fields["Aliases"] == "production, staging"
    assert fields["Training run"] == f"{card['run_id'][:8]} (churn/lr-600, finished)"
    assert fields["Notebook"] == card["notebook"]
    assert fields["Notebook version"] == str(card["notebook_version"])
    assert INTENDED in card["sections"]["overview"]["text"]


def test_training_data_names_the_dataset_version_and_its_profile(card):
    data = card["sections"]["data"]
    # the dataset version the run read, by its number (not its row id, which is 4)
    [row] = data["tables"]["Training data"]
    assert row[:5] == ["train", "train@3", "input", "600", "4"]  # name, version, role, rows, cols
    assert len(row[5]) == 12  # the content hash, shortened
    profile = data["tables"][f"Training profile ({card['train_rows']} rows)"]
    assert [row[:2] for row in profile] == [[f, "numeric"] for f in FEATURES]
    # the Markdown card carries the same row
    assert "| train | train@3 | input | 600 | 4 |" in card["md"]


def test_metrics_show_the_model_tests_rows_and_production_figures(card):
    metrics = card["sections"]["metrics"]
    assert metrics["tables"]["Metrics the training run logged"] == [["accuracy", "0.97"]]
    # the last mlops test: its verdict, and a pass/fail row per condition with the measurement
    assert "Last mlops test on" in metrics["text"] and ": FAILED." in metrics["text"]
    tests = metrics["tables"]["Model tests on the holdout"]
    rows = {r[0]: r for r in tests}
    assert [rows["accuracy >= 0.7"][1:3], rows["accuracy >= 0.999"][1:3]] == [
        ["performance", "pass"], ["performance", "FAIL"]]  # fmt: skip
    for name in ("accuracy >= 0.7", "accuracy >= 0.999"):
        assert float(rows[name][3]) == pytest.approx(card["holdout_accuracy"], abs=1e-4)
        assert "churn-holdout@1" in rows[name][5]
    # production: the batch's requests, the drifted feature and the labelled accuracy
    [window] = metrics["tables"]["In production, last 7 days (per day)"]
    requests, rows_seen, errors, drifted, quality, labelled = (
        window[1], window[2], window[3], window[6], window[8], window[9])  # fmt: skip
    assert (requests, rows_seen, errors, labelled) == ("400", "400", "0.0%", "400")
    assert drifted == "1/3 (tenure)"
    assert quality == f"acc {card['production_accuracy']:.3f}"


def test_the_input_example_shows_the_stored_rows(card):
    signature = card["sections"]["signature"]
    assert signature["tables"]["Signature and input example"] == [
        ["tenure", "long"], ["charges", "double"], ["support_calls", "long"]]  # fmt: skip
    shown = signature["tables"]["Input example"]
    example = card["example"]
    assert len(shown) == len(example) == 3
    for cells, (_, row) in zip(shown, example.iterrows(), strict=True):
        assert [float(c) for c in cells] == pytest.approx(
            [float(row[f]) for f in FEATURES], rel=1e-3
        )
    assert int(shown[0][0]) == int(example.iloc[0]["tenure"])


def test_the_alias_history_shows_both_moves_and_who_made_them(card):
    gates = card["sections"]["gates"]
    moves = [row[1:] for row in gates["tables"]["Alias history"]]
    assert moves == [
        ["staging", "", "1", getpass.getuser(), ""],
        ["production", "", "1", "ada", "passed review"],
    ]
    assert "never put through" in gates["text"]  # no gate ran for this version


def test_the_note_shows_its_text_and_author(card):
    [note] = card["sections"]["notes"]["tables"]["Notes"]
    assert (note[0], note[1], note[3]) == ("churn/1", getpass.getuser(), NOTE)
    assert "<img" not in card["html"].split('id="notes"')[1]  # shown as text, not as HTML


def test_the_card_html_fetches_nothing_from_outside(card):
    urls, scripts = page_urls(card["html"])
    assert external(urls) == []
    assert [s for s in scripts if s.get("src")] == []
    assert "tracker.example.com" not in " ".join(urls)


def test_a_version_without_a_run_says_it_has_no_training_data(store, tmp_path):
    # Given a version registered outside any run
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import kernel_magics as mlops

    frame = pd.DataFrame({"tenure": [1, 5, 9, 12, 30, 40]})
    model = LogisticRegression().fit(frame, [0, 0, 1, 1, 1, 0])
    mlops.log_model(model, "churn", frame, store=store)
    # When its card is written
    out = tmp_path / "card.html"
    done = CliRunner().invoke(cli, ["models", "card", "churn/1", "-o", str(out)],
                              catch_exceptions=False)  # fmt: skip
    assert done.exit_code == 0, done.output
    data = sections(out.read_text(encoding="utf-8"))["data"]
    # Then the data section says so instead of an empty table
    assert "The run recorded no dataset." in data["text"]
    assert "Training data" not in data["tables"]
