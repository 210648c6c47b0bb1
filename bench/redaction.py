"""What the credential scrub costs, before and after, and what the candidate rule sets catch and cost.

Run: ``uv run python bench/redaction.py`` (add ``--with detect-secrets==1.5.0`` to ``uv run`` to also
measure detect-secrets). No cluster needed. In one run, on the same inputs:

- ``before``: ``scrub_text`` of the module as it was before credential formats were added, loaded
  from git history into a temporary module (the last commit that has ``app/redaction.py``);
- ``after``: today's ``app.redaction.scrub_text``;
- ``gitleaks-all``: every rule of the vendored gitleaks file through the same engine (what vendoring
  the whole rule set would cost);
- ``detect-secrets``: its own line scanner with every default plugin, and its plugins' regular
  expressions run over the text (only when it is installed).

Inputs: a 20,000-character pod table (the default output cap) and 1,000 application log lines, both
generated with a fixed seed, plus the planted corpus of tests/redaction_corpus.py for what each
candidate catches and the look-alikes it wrongly changes. Figures are the best of several rounds,
in microseconds, and the ratio to ``before``; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
import timeit
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.redaction import gitleaks, scrub_text  # noqa: E402
from app.redaction.formats import RULES  # noqa: E402
from app.redaction.text import Rule, RuleSet  # noqa: E402
from tests.redaction_corpus import LOOK_ALIKES, PLANTS  # noqa: E402

Scrub = Callable[[str], str]
_KEEP: list[object] = []


def pod_table(chars: int = 20_000) -> str:
    """A pods_list-shaped table, cut at ``chars`` (some pod names carry secret-ish words, as real ones do)."""
    rnd = random.Random(7)
    rows = [
        "NAMESPACE     NAME                                   READY   STATUS             RESTARTS   AGE   IP"
        "             NODE"
    ]
    size = len(rows[0])
    statuses = ["Running", "Running", "Running", "Pending", "CrashLoopBackOff", "Completed", "ImagePullBackOff"]
    apps = ["web", "api", "worker", "token-refresher", "redis", "postgres", "secret-sync", "ingress-nginx"]
    while size < chars:
        ns = rnd.choice(["shop", "payments", "kube-system", "monitoring", "default", "auth-service"])
        name = f"{rnd.choice(apps)}-{rnd.randrange(16**10):010x}-{rnd.randrange(36**5):05x}"
        row = (
            f"{ns:<13} {name:<38} {rnd.randint(0, 2)}/2     {rnd.choice(statuses):<18} {rnd.randint(0, 9):<10} "
            f"{rnd.randint(1, 59)}m   10.244.{rnd.randint(0, 9)}.{rnd.randint(2, 254):<5} kwok-node-{rnd.randint(0, 9)}"
        )
        rows.append(row)
        size += len(row) + 1
    return "\n".join(rows)[:chars]


def log_lines(n: int = 1_000) -> str:
    """Application logs of the usual kinds: access logs, JSON controller logs, warnings naming tokens."""
    rnd = random.Random(11)
    out = []
    for i in range(n):
        ts = f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.{rnd.randrange(1000):03d}Z"
        kind = rnd.randrange(8)
        if kind == 0:
            line = f"{ts} INFO  http: GET /api/v1/orders?page={rnd.randint(1, 40)}&limit=50 200 {rnd.randint(1, 900)}ms"
        elif kind == 1:
            line = json.dumps(
                {
                    "level": "info",
                    "ts": ts,
                    "msg": "reconciled",
                    "object": {"name": f"web-{i}", "namespace": "shop"},
                    "resourceVersion": str(rnd.randint(10**5, 10**7)),
                    "uid": f"{rnd.randrange(16**8):08x}-1f2e-4a5b-9c8d-{rnd.randrange(16**12):012x}",
                }
            )
        elif kind == 2:
            tenant = f"t-{rnd.randint(1, 99)}"
            line = f"{ts} WARN  cache: refreshing token cache for tenant {tenant} after {rnd.randint(1, 30)}s"
        elif kind == 3:
            line = f"{ts} INFO  pulled image registry.example.com/team/app@sha256:{rnd.randrange(16**64):064x}"
        elif kind == 4:
            line = (
                f"10.0.{rnd.randint(0, 255)}.{rnd.randint(0, 255)} - - [01/Jan/2026:00:00:{i % 60:02d} +0000] "
                '"POST /login HTTP/1.1" 302 0 "https://shop.example.com/cart" "curl/8.5"'
            )
        elif kind == 5:
            line = f"{ts} DEBUG db: connected to postgres at db.shop.svc:5432/app (pool {rnd.randint(1, 20)}/20)"
        elif kind == 6:
            line = f"{ts} INFO  worker: job {rnd.randrange(16**8):08x} done in {rnd.random():.3f}s"
        else:
            line = (
                f"{ts} ERROR auth: password check failed for user u{rnd.randint(1, 999)} (attempt {rnd.randint(1, 5)})"
            )
        out.append(line)
    return "\n".join(out)


def before_scrub() -> Scrub:
    """scrub_text of the last committed single-module app/redaction.py, loaded into a temporary module."""
    git = ["git", "-C", str(ROOT)]
    deleted = subprocess.run(
        [*git, "log", "-1", "--no-renames", "--format=%H", "--diff-filter=D", "--", "app/redaction.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    source = subprocess.run(
        [*git, "show", f"{deleted}^:app/redaction.py"], capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "redaction_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("redaction_before", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scrub_text  # type: ignore[no-any-return]


def gitleaks_all() -> tuple[Scrub, int]:
    rules: list[Rule] = []
    for rule_id in gitleaks.load_all():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # RE2's POSIX classes read as nested sets
                rules.append(gitleaks.rule(rule_id))
        except (ValueError, re.error):  # two RE2-only rules do not translate
            continue
    return RuleSet(rules).scrub, len(rules)


def detect_secrets_scrubs() -> dict[str, Scrub]:
    """detect-secrets as a scrubber, two ways: its scanner line by line, and its plugins' regexes."""
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.core.scan import scan_line
        from detect_secrets.settings import default_settings
    except ImportError:
        return {}
    settings = default_settings()
    settings.__enter__()
    _KEEP.append(settings)  # the settings last as long as this context manager is alive

    def scanner(text: str) -> str:
        out = []
        for line in text.split("\n"):
            for found in scan_line(line):
                if found.secret_value:
                    line = line.replace(found.secret_value, "<redacted>")
            out.append(line)
        return "\n".join(out)

    patterns = [
        p
        for cls in get_mapping_from_secret_type_to_class().values()
        for p in getattr(cls, "denylist", ())
        if hasattr(p, "sub")
    ]

    def regexes(text: str) -> str:
        for p in patterns:
            text = p.sub("<redacted>", text)
        return text

    return {"detect-secrets scanner": scanner, f"detect-secrets regexes ({len(patterns)})": regexes}


def best_us(fn: Scrub, text: str, number: int, rounds: int) -> float:
    return min(timeit.repeat(lambda: fn(text), number=number, repeat=rounds)) / number * 1e6


def caught(fn: Scrub) -> tuple[int, int, list[str]]:
    """(planted formats caught, look-alikes changed, names of the formats missed)."""
    missed = [p.name for p in PLANTS if p.secret in fn(p.value)]
    changed = sum(1 for v in LOOK_ALIKES if fn(v) != v)
    return len(PLANTS) - len(missed), changed, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--skip-slow", action="store_true", help="leave out the detect-secrets scanner")
    args = parser.parse_args()
    table, logs = pod_table(), log_lines()
    all_rules, count = gitleaks_all()
    candidates: dict[str, Scrub] = {"before": before_scrub(), "after": scrub_text}
    candidates[f"gitleaks-all ({count} rules)"] = all_rules
    for name, fn in detect_secrets_scrubs().items():
        if not (args.skip_slow and "scanner" in name):
            candidates[name] = fn
    print(f"inputs: table {len(table)} chars, logs {logs.count(chr(10)) + 1} lines / {len(logs)} chars")
    print(f"after: {len(RULES.rules)} rules ({len(gitleaks.SELECTED)} from gitleaks)")
    header = (
        f"{'candidate':<34} {'table us':>10} {'vs before':>9} {'logs us':>10} {'vs before':>9}"
        "  caught  look-alikes changed"
    )
    print(header)
    base: dict[str, float] = {}
    for name, fn in candidates.items():
        slow = "scanner" in name
        t = best_us(fn, table, 1 if slow else 20, 3 if slow else args.rounds)
        lg = best_us(fn, logs, 1 if slow else 5, 3 if slow else args.rounds)
        base.setdefault("t", t)
        base.setdefault("l", lg)
        got, changed, missed = caught(fn)
        print(
            f"{name:<34} {t:>10.0f} {t / base['t']:>9.2f} {lg:>10.0f} {lg / base['l']:>9.2f}  "
            f"{got:>2}/{len(PLANTS)}  {changed}/{len(LOOK_ALIKES)}"
        )
        if missed and name != "before":
            print(f"{'':<34} missed: {', '.join(missed)}")
    for settings in _KEEP:
        settings.__exit__(None, None, None)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
