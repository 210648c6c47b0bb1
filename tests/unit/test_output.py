"""Pure rendering: tables, redaction, caps."""

from __future__ import annotations

from app.output import Table, cap_text, redact_object, render_table, table_from_api, to_yaml

TABLE_PAYLOAD = {
    "kind": "Table",
    "columnDefinitions": [
        {"name": "Name", "priority": 0},
        {"name": "Ready", "priority": 0},
        {"name": "IP", "priority": 1},
    ],
    "rows": [
        {"cells": ["web-1", "1/1", "10.0.0.1"], "object": {"metadata": {"namespace": "a"}}},
        {"cells": ["web-2", "0/1", "10.0.0.2"], "object": {"metadata": {"namespace": "b"}}},
    ],
    "metadata": {"continue": "tok", "remainingItemCount": 5},
}


def test_tables_keep_priority_zero_columns_and_add_namespace_across_namespaces() -> None:
    table = table_from_api(TABLE_PAYLOAD, with_namespace=True)
    assert table.columns == ["NAMESPACE", "NAME", "READY"]
    assert table.rows == [["a", "web-1", "1/1"], ["b", "web-2", "0/1"]]
    assert table.continue_token == "tok"


def test_a_rendered_table_is_aligned_and_announces_the_next_page() -> None:
    rendered = render_table(
        table_from_api(TABLE_PAYLOAD, with_namespace=False), noun="pods", where="", max_chars=10_000
    )
    lines = rendered.text.splitlines()
    assert lines[0].split() == ["NAME", "READY"]
    assert lines[1].split() == ["web-1", "1/1"]
    assert 'continue="tok"' in rendered.text and "5 more pods" in rendered.text


def test_an_empty_list_is_said_in_words() -> None:
    rendered = render_table(Table(["NAME"], []), noun="pods", where=" in namespace x", max_chars=100)
    assert rendered.text == "No pods found in namespace x."


def test_the_cap_cuts_on_a_row_and_says_how_many_were_left_out() -> None:
    rows = [[f"pod-{i:04d}", "1/1"] for i in range(500)]
    rendered = render_table(Table(["NAME", "READY"], rows), noun="pods", where="", max_chars=1000)
    assert len(rendered.text) < 1300
    assert rendered.truncated
    assert f"{500 - len(rendered.rows)} more pods" in rendered.text
    assert rendered.text.splitlines()[len(rendered.rows)].startswith(f"pod-{len(rendered.rows) - 1:04d}")


def test_secret_values_and_managed_fields_never_leave() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "managedFields": [{"manager": "x"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":1}'},
        },
        "data": {"password": "c3VwZXJzZWNyZXQ="},
        "stringData": {"token": "plain-secret"},
    }
    shown = to_yaml(redact_object(secret))
    for leaked in ("c3VwZXJzZWNyZXQ=", "plain-secret", "managedFields", '"data":1'):
        assert leaked not in shown
    assert "password" in shown and "<redacted" in shown
    assert secret["data"]["password"] == "c3VwZXJzZWNyZXQ="  # the input is not modified


def test_cap_text_keeps_short_text_and_announces_cut_text() -> None:
    assert cap_text("short", 100, hint="h") == ("short", False)
    text, capped = cap_text("line\n" * 100, 50, hint="use limit")
    assert capped and "more characters not shown; use limit" in text
