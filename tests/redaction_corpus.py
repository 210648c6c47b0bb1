"""Planted credentials (one per format the scrub promises to catch) and look-alikes it must leave alone.

Shared by the unit tests, the integration corpus test (which plants every value in every carrier on
the real control plane) and bench/redaction.py. Token values are assembled from parts, so that no
complete, scanner-shaped credential sits in the source; each is fake but has its provider's exact shape.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass


def _fake(n: int, seed: int, alphabet: str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice(alphabet) for _ in range(n))


_HEX = "0123456789abcdef"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True)
class Plant:
    """``value`` is planted; ``secret`` must appear in no output; ``kept`` must still appear (usefulness)."""

    name: str
    value: str
    secret: str
    kept: tuple[str, ...] = ()


def _plant(name: str, value: str, secret: str, *kept: str) -> Plant:
    assert secret in value and all(k in value for k in kept), name
    return Plant(name, value, secret, kept)


_pg = "Pg" + _fake(14, 1)
_redis = "Rd" + _fake(14, 2)
_amqp = "Mq" + _fake(14, 3)
_mongo = "Mg" + _fake(14, 4)
_docker_auth = base64.b64encode(b"robot$ci:" + _fake(20, 5).encode()).decode()
_docker_password = "Dk" + _fake(16, 6)
_slack_hook = "T" + _fake(8, 7).upper() + "/B" + _fake(10, 8).upper() + "/" + _fake(24, 9)
_discord_hook = _fake(68, 10, _B64[:62] + "_-")
_teams_hook = _fake(32, 11, _HEX)
_sas = _fake(43, 12, _B64) + "%3D"
_amz = _fake(64, 13, _HEX)
_goog = _fake(128, 14, _HEX)
_ado = "Ad" + _fake(12, 15) + " x"
_odbc = "Od" + _fake(12, 16)
_azure_key = _fake(86, 17, _B64) + "=="

PLANTS: tuple[Plant, ...] = (
    _plant("postgres-url", f"postgres://admin:{_pg}@db:5432/app", _pg, "postgres://admin:", "@db:5432/app"),
    _plant("redis-url", f"redis://:{_redis}@redis:6379/0", _redis, "redis://:", "@redis:6379/0"),
    _plant("amqp-url", f"amqp://guest:{_amqp}@mq:5672/", _amqp, "amqp://guest:", "@mq:5672/"),
    _plant(
        "mongodb-srv-url",
        f"mongodb+srv://app:{_mongo}@cluster0.example.net/db?retryWrites=true",
        _mongo,
        "@cluster0.example.net",
    ),
    _plant(
        "docker-config-json",
        json.dumps({"auths": {"registry.example.com": {"auth": _docker_auth, "password": _docker_password}}}),
        _docker_auth,
        "registry.example.com",
    ),
    _plant(
        "docker-config-password",
        json.dumps({"auths": {"ghcr.example.com": {"username": "robot", "password": _docker_password}}}),
        _docker_password,
        "ghcr.example.com",
    ),
    _plant("slack-webhook", f"https://hooks.slack.com/services/{_slack_hook}", _slack_hook, "hooks.slack.com"),
    _plant(
        "discord-webhook",
        f"https://discord.com/api/webhooks/123456789012345678/{_discord_hook}",
        _discord_hook,
        "discord.com/api/webhooks/",
    ),
    _plant(
        "teams-webhook",
        "https://contoso.webhook.office.com/webhookb2/0f8fad5b-d9cb-469f-a165-70867728950e@72f988bf-86f1-41af-91ab"
        f"-2d7cd011db47/IncomingWebhook/{_teams_hook}/4d0b1a6e-7f1c-4a7e-9a43-2f0c5c4b8e11",
        _teams_hook,
        "contoso.webhook.office.com",
    ),
    _plant(
        "azure-sas-url",
        f"https://acct.blob.core.windows.net/backups/db.gz?sv=2022-11-02&se=2026-12-31T00%3A00%3A00Z&sr=b&sp=r&sig={_sas}",
        _sas,
        "acct.blob.core.windows.net/backups/db.gz?sv=2022-11-02",
    ),
    _plant(
        "s3-presigned-url",
        "https://bucket.s3.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z"
        f"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={_amz}",
        _amz,
        "bucket.s3.amazonaws.com/report.csv",
    ),
    _plant(
        "gcs-signed-url",
        "https://storage.googleapis.com/bucket/obj?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=20260101T000000Z"
        f"&X-Goog-Expires=900&X-Goog-SignedHeaders=host&X-Goog-Signature={_goog}",
        _goog,
        "storage.googleapis.com/bucket/obj",
    ),
    _plant(
        "ado-connection-string",
        f"Server=tcp:sql.example.com,1433;Database=app;User ID=app;Password={_ado};Encrypt=True",
        _ado.split()[0],
        "Server=tcp:sql.example.com,1433",
    ),
    _plant("odbc-connection-string", f"Driver={{ODBC Driver 18}};Server=db;UID=sa;PWD={_odbc};", _odbc, "UID=sa"),
    _plant(
        "azure-storage-connection-string",
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={_azure_key};EndpointSuffix=core.windows.net",
        _azure_key[:40],
        "AccountName=acct",
    ),
    _plant("github-pat", "ghp_" + _fake(36, 20), "ghp_" + _fake(36, 20)),
    _plant("github-fine-grained-pat", "github_pat_" + _fake(82, 21), _fake(82, 21)),
    _plant("gitlab-pat", "glpat-" + _fake(20, 22), _fake(20, 22)),
    _plant(
        "slack-bot-token",
        "xoxb-" + _fake(11, 23, "0123456789") + "-" + _fake(12, 24, "0123456789") + "-" + _fake(24, 25),
        _fake(24, 25),
    ),
    _plant("stripe-secret-key", "sk_live_" + _fake(24, 26), _fake(24, 26)),
    _plant("google-api-key", "AIza" + _fake(35, 27), _fake(35, 27)),
    _plant("azure-storage-key", "storageAccountKey: " + _azure_key, _azure_key[:40], "storageAccountKey"),
    _plant("npm-token", "npm_" + _fake(36, 28), _fake(36, 28)),
    _plant("pypi-token", "pypi-AgEIcHlwaS5vcmc" + _fake(60, 29), _fake(60, 29)),
    _plant(
        "aws-access-key",
        "AKIA" + _fake(16, 30, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        _fake(16, 30, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    ),
)

#: Look-alikes: values of the same shapes that are not credentials and must come out unchanged.
LOOK_ALIKES: tuple[str, ...] = (
    "registry.example.com/team/app@sha256:" + _fake(64, 40, _HEX),
    "sha256:" + _fake(64, 41, _HEX),
    "6f1c8a2e-1f2e-4a5b-9c8d-0123456789ab",
    "resourceVersion=48213377",
    "https://example.com/docs/install?version=1.2.3&lang=en",
    "http://user@proxy.example.com:3128/",
    "git@github.com:example/repo.git",
    "oci://registry.example.com:5000/charts/app@sha256:" + _fake(64, 42, _HEX),
    "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgc2VjcmV0IGF0IGFsbA==",
    "postgres://app:$(DB_PASSWORD)@db:5432/app",
    "Server=db;Database=app;Integrated Security=true",
    "basic authentication is configured",
    "token refresh every 300s",
)
