"""The deployment files under ``contrib/``: they parse, and they say what the guides promise.

Nothing is pulled, built or applied: the files are read as Kubernetes, systemd,
supervisor and Docker would read them, and checked against each other and
against Tickwork (the schedules loader, the shutdown grace, the extras).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler.config.reader import read_schedules_text
from scheduler.engine.loop import EngineConfig

from .manifests import (
    CONTRIB,
    KUBERNETES,
    REPO,
    SYSTEMD,
    CommandLine,
    dockerfile,
    json_files,
    kubernetes_commands,
    kubernetes_objects,
    kustomization,
    load_all,
    load_json,
    objects_of_kind,
    pod_spec,
    supervisor_commands,
    supervisor_programs,
    systemd_commands,
    systemd_units,
    yaml_files,
)

#: The grace a scheduler gets unless a flag or setting changes it.
DEFAULT_GRACE = EngineConfig().shutdown_grace


def grace_of(command: CommandLine) -> float:
    given = command.value("--shutdown-grace")
    return DEFAULT_GRACE if given is None else float(given)


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(CONTRIB)))
def test_every_yaml_file_parses(path: Path) -> None:
    assert load_all(path), f"{path} holds no document"


@pytest.mark.parametrize("path", json_files(), ids=lambda p: str(p.relative_to(CONTRIB)))
def test_every_json_file_parses(path: Path) -> None:
    assert load_json(path)


def test_kustomization_lists_every_manifest_and_each_kind_the_guide_describes() -> None:
    listed = set(kustomization()["resources"])
    here = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    # servicemonitor.yaml needs the Prometheus operator's CRD: commented out there.
    assert listed == here - {"servicemonitor.yaml"}
    assert "# - servicemonitor.yaml" in (KUBERNETES / "kustomization.yaml").read_text()
    kinds = sorted(doc["kind"] for _, doc in kubernetes_objects())
    assert kinds == ["ConfigMap", "Deployment", "Job", "PodDisruptionBudget", "Service"]
    assert load_all(KUBERNETES / "servicemonitor.yaml")[0]["kind"] == "ServiceMonitor"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl (kustomize)")
def test_kustomize_builds_the_manifests_with_the_image_it_sets() -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    built = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    assert sorted(doc["kind"] for doc in built) == sorted(
        doc["kind"] for _, doc in kubernetes_objects()
    )
    (image,) = kustomization()["images"]
    for doc in built:
        if "template" in doc.get("spec", {}):
            for container in pod_spec(doc)["containers"]:
                assert container["image"] == f"{image['name']}:{image['newTag']}"


def test_every_image_is_the_one_kustomize_sets() -> None:
    (image,) = kustomization()["images"]
    for workload in objects_of_kind("Deployment") + objects_of_kind("Job"):
        for container in pod_spec(workload)["containers"]:
            assert container["image"].split(":")[0] == image["name"]


def scheduler_deployment() -> dict[str, Any]:
    (deployment,) = objects_of_kind("Deployment")
    return deployment


def scheduler_container() -> dict[str, Any]:
    (container,) = pod_spec(scheduler_deployment())["containers"]
    return container


def scheduler_command() -> CommandLine:
    return next(c for c in kubernetes_commands() if c.program == ("django", "run_scheduler"))


def test_the_deployment_runs_two_run_scheduler_replicas() -> None:
    assert scheduler_deployment()["spec"]["replicas"] == 2
    assert scheduler_command().argv[:3] == ("python", "manage.py", "run_scheduler")


def test_the_probes_ask_healthz_on_the_port_the_scheduler_serves() -> None:
    container = scheduler_container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    served = int(scheduler_command().value("--metrics-port") or 0)
    assert served in ports.values()
    assert scheduler_command().value("--metrics-host") == "0.0.0.0"  # noqa: S104 - the kubelet's probes come from outside the pod
    probes = [container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe")]
    for probe in probes:
        get = probe["httpGet"]
        assert get["path"] == "/healthz"
        assert ports.get(get["port"], get["port"]) == served


def test_the_pod_stops_after_the_shutdown_grace_not_before() -> None:
    spec = pod_spec(scheduler_deployment())
    assert spec["terminationGracePeriodSeconds"] > grace_of(scheduler_command())


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_run_as_a_numeric_non_root_user_with_resources(kind: str) -> None:
    (workload,) = objects_of_kind(kind)
    spec = pod_spec(workload)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert isinstance(spec["securityContext"]["runAsUser"], int)
    assert spec["securityContext"]["runAsUser"] > 0
    for container in spec["containers"]:
        assert set(container["resources"]) == {"requests", "limits"}
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_migrate_job_migrates_without_questions() -> None:
    (job,) = objects_of_kind("Job")
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_the_schedules_file_comes_from_the_configmap_and_loads() -> None:
    (config_map,) = objects_of_kind("ConfigMap")
    spec = pod_spec(scheduler_deployment())
    volume = next(v for v in spec["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    mount = next(m for m in scheduler_container()["volumeMounts"] if m["name"] == volume["name"])
    assert "subPath" not in mount  # a subPath mount never sees the ConfigMap change
    schedules = Path(scheduler_command().value("--schedules") or "")
    assert schedules.parent == Path(mount["mountPath"])
    loaded = read_schedules_text(config_map["data"][schedules.name], "configmap.yaml")
    names = [job.name for job in loaded.jobs]
    assert names == ["nightly-report", "refresh-rates", "purge-sessions"]


def test_the_disruption_budget_and_the_service_select_the_scheduler_pods() -> None:
    labels = scheduler_deployment()["spec"]["template"]["metadata"]["labels"]
    (budget,) = objects_of_kind("PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (service,) = objects_of_kind("Service")
    assert service["spec"]["selector"].items() <= labels.items()


def test_the_service_exposes_the_metrics_port_for_prometheus() -> None:
    (service,) = objects_of_kind("Service")
    annotations = service["metadata"]["annotations"]
    served = scheduler_command().value("--metrics-port")
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": served,
        "prometheus.io/path": "/metrics",
    }
    (port,) = service["spec"]["ports"]
    named = {p["name"]: p["containerPort"] for p in scheduler_container()["ports"]}
    assert str(named[port["targetPort"]]) == served == str(port["port"])
    monitor = load_all(KUBERNETES / "servicemonitor.yaml")[0]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == (port["name"], "/metrics")
    assert endpoint["honorLabels"] is True  # keeps the metrics' own `job` label


@pytest.mark.parametrize("path", sorted(SYSTEMD.glob("*.service")), ids=lambda p: p.name)
def test_systemd_units_stop_gracefully_and_restart_on_failure(path: Path) -> None:
    service = systemd_units()[path]["Service"]
    unit = str(path.relative_to(CONTRIB))
    (command,) = [c for c in systemd_commands() if c.where.startswith(unit + ":")]
    assert service["KillSignal"] == "SIGTERM"
    assert service["Restart"] == "on-failure"
    assert float(service["TimeoutStopSec"]) > grace_of(command)
    assert service["User"] not in {"root", "0"}
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    environment = SYSTEMD / Path(service["EnvironmentFile"]).name
    assert environment.is_file(), f"{path.name} reads {environment.name}, which is not here"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_every_directive_of_the_units(tmp_path: Path) -> None:
    # The units' programs exist only on a target host: point them at this venv's.
    bin_dir = str(Path(sys.executable).parent) + "/"
    for path in SYSTEMD.glob("*.service"):
        (tmp_path / path.name).write_text(path.read_text().replace("/srv/proj/venv/bin/", bin_dir))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.glob("*")))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    complaints = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert not complaints, "\n".join(complaints)


@pytest.mark.parametrize(
    "where", [w for w in sorted(supervisor_programs()) if w.startswith("supervisor/")]
)
def test_supervisor_programs_stop_gracefully(where: str) -> None:
    program = supervisor_programs()[where]
    (command,) = [c for c in supervisor_commands() if c.where == where]
    assert program["stopsignal"] == "TERM"
    assert int(program["stopwaitsecs"]) > grace_of(command)
    assert program["user"] not in {"root", "0"}
    assert program["autorestart"] == "unexpected" and program["exitcodes"] == "0"


def test_the_dockerfile_runs_as_a_numeric_user_on_python_slim() -> None:
    instructions = dict(dockerfile())
    assert instructions["FROM"] == "python:3.12-slim"
    user = instructions["USER"].split(":")[0]
    assert user.isdigit() and int(user) > 0
    assert instructions["STOPSIGNAL"] == "SIGTERM"
    assert instructions["EXPOSE"] == "9100"


def test_the_dockerfile_installs_extras_that_exist() -> None:
    run = next(rest for instruction, rest in dockerfile() if "tickwork[" in rest)
    (extras,) = re.findall(r"tickwork\[([\w,]+)\]", run)
    with (REPO / "pyproject.toml").open("rb") as stream:
        defined = set(tomllib.load(stream)["project"]["optional-dependencies"])
    missing = set(extras.split(",")) - defined
    assert not missing, missing


def test_the_metrics_extra_exists() -> None:
    with (REPO / "pyproject.toml").open("rb") as stream:
        assert "metrics" in tomllib.load(stream)["project"]["optional-dependencies"]


def test_compose_stops_the_scheduler_after_its_grace() -> None:
    compose = load_all(CONTRIB / "docker" / "compose.yaml")[0]
    scheduler = compose["services"]["scheduler"]
    assert float(scheduler["stop_grace_period"].removesuffix("s")) > DEFAULT_GRACE
    assert scheduler["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
