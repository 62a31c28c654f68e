"""``mlops models card`` and ``/mlops/api/models/{name}/versions/{v}/card`` on a real store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from report_fixtures import register_model

from kernel_magics.cli import cli


def run_cli(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_card_fields_round_trip_and_importance_on_a_labelled_holdout(store, tmp_path):
    # Given a scikit-learn model where only tenure matters, and a labelled holdout file
    _, frame = register_model(store)
    holdout = tmp_path / "holdout.csv"
    frame.to_csv(holdout, index=False)
    # When the card is edited and written
    run_cli("models", "card", "churn/1", "--set", "intended_use=Retention calls",
            "--set", "limitations=EU customers only", "--set", "description=LR on tenure")  # fmt: skip
    out = tmp_path / "card.md"
    run_cli("models", "card", "churn/1", "--holdout", str(holdout), "-o", str(out))
    fields = json.loads(run_cli("models", "card", "churn/1", "--json").output)
    # Then the edits are stored, and the importance says tenure drives it
    assert fields["intended_use"] == "Retention calls"
    assert fields["limitations"] == "EU customers only"
    assert fields["description"] == "LR on tenure"
    importance = fields["importance"]
    assert importance["holdout"] == "holdout.csv" and importance["target"] == "churned"
    assert [f["name"] for f in importance["features"]] == ["tenure", "noise"]
    assert importance["features"][0]["mean"] > 0.2 > abs(importance["features"][1]["mean"])
    text = out.read_text()
    assert "Retention calls" in text and "EU customers only" in text
    assert "![Permutation importance on the holdout](card_files/permutation-importance.svg)" in text
    assert (tmp_path / "card_files" / "permutation-importance.svg").is_file()
    assert "| tenure | double |" in text and "| accuracy | 0.97 |" in text


def test_importance_is_computed_once(store, tmp_path):
    register_model(store)
    run_cli("models", "card", "churn/1", "-o", str(tmp_path / "a.html"))
    first = store.model_cards.get(1)
    run_cli("models", "card", "churn/1", "-o", str(tmp_path / "b.html"))
    assert store.model_cards.get(1).importance == first.importance
    assert first.importance["holdout"] == "input example"
    assert (
        "Permutation importance (scikit-learn) on the input example"
        in (tmp_path / "b.html").read_text()
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["churn/1", "--set", "owner=me"], "'owner' is not an editable card field"),
        (["churn", "-o", "c.html"], "A model card is for one version"),
        (["churn/9", "-o", "c.html"], "no version"),
        (["churn/1"], "Give -o FILE"),
    ],
)
def test_card_mistakes(store, tmp_path, args, message):
    from kernel_magics.errors import KernelMagicsError

    register_model(store)
    result = CliRunner().invoke(cli, ["models", "card", *args])
    error = result.exception if isinstance(result.exception, KernelMagicsError) else None
    assert result.exit_code != 0
    assert message.lower() in (str(error) if error else result.output).lower()


# -- the panel's route ----------------------------------------------------------------------------
API = ("mlops", "api", "models", "churn", "versions", "1", "card")


@pytest.fixture
def jp_server_config(store):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "server"))
    from server_helpers import server_config

    return server_config(store)


async def test_route_round_trips_the_card_and_serves_its_html(jp_fetch, store):
    from tornado.httpclient import HTTPClientError

    register_model(store)
    body = json.dumps({"intended_use": "Retention calls", "limitations": ""})
    patched = json.loads((await jp_fetch(*API, method="PATCH", body=body)).body)
    assert patched["intended_use"] == "Retention calls" and patched["limitations"] is None
    got = json.loads((await jp_fetch(*API)).body)
    assert got["intended_use"] == "Retention calls"
    assert got["html_path"] == "models/churn/versions/1/card/html"
    page = await jp_fetch(*API, "html")
    assert page.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in page.headers["Content-Security-Policy"]
    assert b"Retention calls" in page.body and b"Permutation importance" in page.body
    for parts, method, data, code in (
        (API, "PATCH", {"owner": "x"}, 400),
        (API, "PATCH", {}, 400),
        (("mlops", "api", "models", "churn", "versions", "9", "card"), "GET", None, 404),
        (("mlops", "api", "models", "churn", "versions", "x", "card"), "GET", None, 400),
    ):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(*parts, method=method,
                           body=None if data is None else json.dumps(data))  # fmt: skip
        assert info.value.code == code, parts
        assert "Traceback" not in info.value.response.body.decode()
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*API, headers={"Authorization": ""})
    assert info.value.code == 403


def test_card_shows_every_gate_attempt_with_the_values_checked(store, tmp_path):
    # Given a version whose first promotion fails its gate and whose second passes
    from kernel_magics.core.promotion import promote

    register_model(store)
    failed = promote("churn", 1, require=["metrics.accuracy >= 0.99"], store=store)
    passed = promote("churn", 1, require=["metrics.accuracy >= 0.9"], store=store)
    promote("churn", 1, require=["metrics.accuracy >= 0.5"], dry_run=True, store=store)
    assert not failed.passed and passed.passed
    # When its card is written
    out = tmp_path / "card.md"
    run_cli("models", "card", "churn/1", "-o", str(out))
    text = out.read_text()
    # Then both real attempts are there, newest first, each with the value it was checked on
    # and who ran it; the dry run is not an attempt
    section = text[text.index("## Promotion gates") :]
    assert "metrics.accuracy >= 0.9: 0.97 (against 0.9) passed" in section
    assert "metrics.accuracy >= 0.99: 0.97 (against 0.99) FAILED" in section
    assert section.index(">= 0.9:") < section.index(">= 0.99:")
    assert "0.5" not in section.split("### ")[1]
    from kernel_magics.core.actor import os_user

    assert [e.passed for e in store.promotion_gates.history(1)] == [True, False]
    assert {e.actor for e in store.promotion_gates.history(1)} == {os_user()}
    assert os_user() in section
