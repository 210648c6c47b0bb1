"""What resources_describe says about an object: kubectl describe's useful lines, never secret values."""

from __future__ import annotations

from datetime import UTC, datetime

from app.tools.resources.summaries import event_items, header, summarize

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_a_pod_summary_has_status_node_and_container_states() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "nginx:1"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.1",
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ],
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        },
    }
    sections = dict(summarize(pod, NOW))
    assert sections["Node"] == "n1 (IP 10.0.0.1)"
    assert (
        "app: nginx:1 | Waiting (CrashLoopBackOff) | ready=false | restarts=4 | last: OOMKilled exit 137"
        in (sections["Containers"])
    )
    assert sections["Conditions"] == "Ready=False (ContainersNotReady)"


def test_healthy_negative_conditions_carry_no_reason() -> None:
    node = {
        "kind": "Node",
        "metadata": {"name": "n"},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                {"type": "DiskPressure", "status": "True", "reason": "KubeletHasDiskPressure"},
            ]
        },
    }
    assert dict(summarize(node, NOW))["Conditions"] == (
        "MemoryPressure=False; DiskPressure=True (KubeletHasDiskPressure)"
    )


def test_a_secret_shows_key_names_and_sizes_only() -> None:
    secret = {"kind": "Secret", "type": "Opaque", "metadata": {"name": "s"}, "data": {"password": "aHVudGVyMg=="}}
    text = str(summarize(secret, NOW))
    assert "password (12 chars)" in text and "aHVudGVyMg==" not in text


def test_a_custom_resource_shows_spec_and_status_as_short_yaml() -> None:
    widget = {"kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}, "status": {"phase": "Ready"}}
    sections = dict(summarize(widget, NOW))
    assert sections["Spec"] == "\n  size: 3" and sections["Status"] == "\n  phase: Ready"


def test_header_leaves_out_the_last_applied_copy_and_ages_events() -> None:
    obj = {
        "metadata": {
            "creationTimestamp": "2026-01-01T11:00:00Z",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...secret...}", "a": "b"},
        }
    }
    sections = dict(header(obj, NOW))
    assert sections["Annotations"] == "a=b" and sections["Created"].endswith("(60m ago)")
    [event] = event_items(
        [
            {
                "type": "Warning",
                "reason": "BackOff",
                "count": 3,
                "lastTimestamp": "2026-01-01T11:59:00Z",
                "source": {"component": "kubelet"},
                "message": "Back-off\n restarting",
            }
        ],
        NOW,
    )
    assert (event.age, event.count, event.source, event.message) == ("60s", 3, "kubelet", "Back-off restarting")
