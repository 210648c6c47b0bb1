"""The pure Helm rules: chart references, version constraints, helm's errors as one line, command lines, rendering."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from app import errors, output, redaction
from app.kube.helm import ChartRequest, chart_args, local_chart_version, resolve_chart
from app.kube.helmref import ChartRef, classify_chart, error_line, satisfies, translate, validate_constraint
from app.policy import Policy
from app.tools.helm.args import HelmInstallArgs, HelmUpgradeArgs
from app.tools.helm.views import short_time

CHART = Path(__file__).resolve().parents[1] / "charts" / "hello"


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("0.1.0", "0.1.0", True),
        ("0.1.0", "v0.1.0", True),
        ("0.1.1", "0.1.0", False),
        ("0.1.5", "^0.1", True),
        ("0.2.0", "^0.1", False),
        ("1.9.0", "^1.2.3", True),
        ("2.0.0", "^1.2.3", False),
        ("0.0.4", "^0.0.3", False),
        ("1.2.9", "~1.2.3", True),
        ("1.3.0", "~1.2.3", False),
        ("1.5.0", ">=1.0 <2.0", True),
        ("2.0.0", ">=1.0, <2.0", False),
        ("1.9.9", "1.x", True),
        ("2.0.0", "1.x", False),
        ("7.0.0", "*", True),
        ("2.0.0", "1.0 - 2.0", True),
        ("3.1.0", "<1 || >=3", True),
        ("2.0.0", "<1 || >=3", False),
        ("0.1.0", "!=0.1.0", False),
        ("1.2.9", ">1.2.x", False),
        ("1.3.0", ">1.2.x", True),
        ("2.0.0-rc.1", "^1.2.3", False),
        ("1.0.0-alpha", "<1.0.0", True),
        ("1.0.0", "> 0.9", True),
    ],
)
def test_version_constraints_follow_helms_grammar(version: str, constraint: str, expected: bool) -> None:
    assert satisfies(version, constraint) is expected


@pytest.mark.parametrize("bad", ["not a version!!", "^^1", "1.2.3.4", ">=", "latest", "1.2.3 ||", "01.2"])
def test_a_malformed_constraint_is_rejected_naming_the_bad_part(bad: str) -> None:
    with pytest.raises(ValueError, match="constraint"):
        validate_constraint(bad)


def test_chart_references_are_classified_before_helm_sees_them() -> None:
    assert classify_chart("oci://ghcr.io/org/charts/app", None, exists=False) == ChartRef(
        "oci://ghcr.io/org/charts/app", "oci"
    )
    assert classify_chart("https://example.com/app-1.0.0.tgz", None, exists=False).kind == "url"
    assert classify_chart("nginx", "https://charts.example.com", exists=False) == ChartRef(
        "nginx", "repo", "https://charts.example.com"
    )
    assert classify_chart("bitnami/nginx", None, exists=False).kind == "alias"
    assert classify_chart("./hello", None, exists=True).kind == "local"


@pytest.mark.parametrize(
    ("chart", "repo", "fragment"),
    [
        ("/no/such/chart", None, "chart path '/no/such/chart' not found on the server"),
        ("./missing.tgz", None, "not found on the server"),
        ("oci://", None, "invalid OCI reference"),
        ("nginx", "ftp://example.com", "invalid repo"),
        ("a/b/c", "https://charts.example.com", "chart must be a chart name"),
        ("just words here", None, "is not a local path"),
        ("  ", None, "must not be empty"),
    ],
)
def test_a_bad_chart_reference_is_one_clear_line(chart: str, repo: str | None, fragment: str) -> None:
    with pytest.raises(errors.ToolInputError, match=fragment):
        classify_chart(chart, repo, exists=False)


def test_a_local_chart_resolves_to_an_absolute_path_and_its_version_is_read(tmp_path: Path) -> None:
    ref = resolve_chart(str(CHART), None)
    assert ref.kind == "local" and Path(ref.ref).is_absolute()
    assert local_chart_version(str(CHART)) == "0.1.0"
    archive = tmp_path / "hello-0.1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(CHART, arcname="hello")
    assert local_chart_version(str(archive)) == "0.1.0"
    assert local_chart_version(str(tmp_path / "nothing")) is None


def test_helms_stderr_becomes_one_line_without_prefixes_or_warnings() -> None:
    stderr = (
        "WARNING: Kubernetes configuration file is group-readable. This is insecure.\n"
        "Error: INSTALLATION FAILED: values don't meet the specifications of the schema(s) in the following chart(s):\n"
        "hello:\n"
        "- at '/replicas': got string, want integer\n"
    )
    assert error_line(stderr) == (
        "values don't meet the specifications of the schema(s) in the following chart(s): hello: "
        "- at '/replicas': got string, want integer"
    )
    assert error_line("") == "helm failed without saying why"
    assert len(error_line("Error: " + "x" * 2000)) <= 400


@pytest.mark.parametrize(
    ("stderr", "kind", "fragment"),
    [
        ("Error: release: not found", errors.NotFound, "release 'web' not found in namespace ns"),
        ("Error: uninstall: Release not loaded: web: release: not found", errors.NotFound, "release 'web' not found"),
        ('Error: UPGRADE FAILED: "web" has no deployed releases', errors.NotFound, "pass install=true"),
        ("Error: INSTALLATION FAILED: cannot re-use a name that is still in use", errors.Conflict, "already exists"),
        ("Error: INSTALLATION FAILED: context deadline exceeded", errors.Timeout, "context deadline exceeded"),
        (
            'Error: Kubernetes cluster unreachable: context "nope" does not exist',
            errors.Unavailable,
            "Kubernetes cluster unreachable",
        ),
        (
            'Error: INSTALLATION FAILED: looks like "http://127.0.0.1:1/charts" is not a valid chart repository or '
            "cannot be reached: connection refused",
            errors.Unavailable,
            "not a valid chart repository",
        ),
        ('Error: secrets is forbidden: User "x" cannot list resource', errors.Forbidden, "forbidden"),
        ('Error: INSTALLATION FAILED: path "/x" not found', errors.NotFound, 'path "/x" not found'),
        ("Error: improper constraint: ^^1", errors.ToolInputError, "improper constraint"),
        ("Error: something else entirely", errors.KubeError, "something else entirely"),
    ],
)
def test_helm_errors_map_onto_our_tree(stderr: str, kind: type[errors.K8sMcpError], fragment: str) -> None:
    error = translate(stderr, release="web", namespace="ns")
    assert type(error) is kind
    assert fragment in str(error) and "\n" not in str(error)


def _req(**kw: object) -> ChartRequest:
    base: dict[str, object] = {"name": "web", "chart": ChartRef("/c", "local"), "namespace": "ns", "values": {}}
    base.update(kw)
    return ChartRequest(**base)  # type: ignore[arg-type]


def test_install_and_upgrade_command_lines() -> None:
    assert chart_args(_req(), upgrade=False, dry_run=False) == [
        "install", "web", "/c", "--namespace", "ns", "--output", "json", "--values", "-", "--timeout", "300s",
    ]  # fmt: skip
    args = chart_args(
        _req(chart=ChartRef("nginx", "repo", "https://r"), version="^1", create_namespace=True, wait=True),
        upgrade=False,
        dry_run=True,
    )
    assert args[-8:] == [
        "--repo", "https://r", "--version", "^1", "--create-namespace", "--wait", "--wait-for-jobs", "--dry-run=server",
    ]  # fmt: skip
    assert chart_args(_req(name=None), upgrade=False, dry_run=False)[1] == "--generate-name"
    upgrade = chart_args(_req(install=True, reuse_values=True), upgrade=True, dry_run=False)
    assert upgrade[:2] == ["upgrade", "web"] and "--install" in upgrade and "--reuse-values" in upgrade
    assert "--install" not in chart_args(_req(install=False), upgrade=True, dry_run=False)


def test_helm_arguments_are_validated_up_front() -> None:
    with pytest.raises(ValueError, match="improper constraint"):
        HelmInstallArgs(chart="x", version="not a version!!")
    with pytest.raises(ValueError, match="invalid release name"):
        HelmInstallArgs(chart="x", name="Bad_Name")
    with pytest.raises(ValueError, match="exclude each other"):
        HelmUpgradeArgs(name="web", chart="x", reuse_values=True, reset_values=True)
    assert HelmInstallArgs(chart="x", values={"a": {"b": 1}}).values == {"a": {"b": 1}}


def test_helm_times_are_shortened() -> None:
    assert short_time("2026-11-23 13:28:53.927907417 +0000 UTC") == "2026-11-23T13:28:53Z"
    assert short_time("2026-11-23T13:28:53.927907417Z") == "2026-11-23T13:28:53Z"
    assert short_time("2026-11-23T13:28:53.9+02:00") == "2026-11-23T13:28:53+02:00"
    assert short_time("2026-11-23 13:28:53 +0200 CEST") == "2026-11-23T13:28:53+02:00"
    assert short_time(None) == ""


def test_values_under_secret_like_keys_are_redacted() -> None:
    shown = redaction.redact_values(
        {
            "auth": {"password": "s3cret", "existingSecret": "db-auth", "secretName": "n", "apiKey": "k"},
            "tokens": [{"token": "t"}],
            "replicas": 3,
            "tls": {"enabled": True, "privateKey": ""},
        }
    )
    assert shown["auth"] == {
        "password": "<redacted 6 chars>",
        "existingSecret": "db-auth",
        "secretName": "n",
        "apiKey": "<redacted 1 chars>",
    }
    assert shown["tokens"] == [{"token": "<redacted 1 chars>"}]
    assert shown["replicas"] == 3 and shown["tls"] == {"enabled": True, "privateKey": ""}


def test_manifests_keep_their_sources_and_lose_secret_values() -> None:
    manifest = (
        "---\n# Source: c/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
        "data:\n  password: c2VjcmV0\n---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: c\ndata:\n  a: b\n---\n# Source: c/templates/empty.yaml\n"
    )
    shown = output.redact_manifest(manifest)
    assert "c2VjcmV0" not in shown and "<redacted 8 chars>" in shown
    assert "# Source: c/templates/secret.yaml" in shown and "  a: b" in shown
    assert output.manifest_objects(manifest) == ["Secret/s", "ConfigMap/c"]


def test_a_read_only_policy_refuses_helm_changes() -> None:
    with pytest.raises(errors.PolicyDenied, match="refused helm install ns/web: the server is in read-only mode"):
        Policy(read_only=True).check_change("helm install ns/web")
    Policy(read_only=False).check_change("helm install ns/web")
