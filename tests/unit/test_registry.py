"""The task registry: what may be scheduled, and nothing else."""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.errors import InvalidJob, TaskNotRegistered
from scheduler.model.jobs import JobSpec
from scheduler.tasks.registry import (
    RegisteredTask,
    TaskRegistrationError,
    TaskRegistry,
    job,
    registry,
)


@job
def _double(number: int) -> int:
    return number * 2


MakeModule = Callable[[str, str], None]


@pytest.fixture
def make_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeModule]:
    """Write a module importable for this test only; forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    roots: set[str] = set()

    def make(name: str, source: str) -> None:
        roots.add(name.split(".")[0])
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()

    yield make
    for module in [m for m in sys.modules if m.split(".")[0] in roots]:
        del sys.modules[module]


@pytest.fixture
def tasks() -> TaskRegistry:
    return TaskRegistry()


# -- registering --------------------------------------------------------------


def test_bare_decorator_registers_under_module_and_qualname_in_the_default_registry() -> None:
    name = f"{__name__}._double"
    assert registry.resolve(name) == RegisteredTask(name=name, func=_double)
    assert _double.task_name == name  # type: ignore[attr-defined]
    assert _double(21) == 42  # still the plain function


def test_decorator_with_options(tasks: TaskRegistry) -> None:
    @job(name="reports.daily", takes_context=True, registry=tasks)
    def daily(context: object) -> str:
        return "ok"

    found = tasks.resolve("reports.daily")
    assert (found.func, found.takes_context, found.is_async) == (daily, True, False)
    assert daily.task_name == "reports.daily"  # type: ignore[attr-defined]
    assert daily(None) == "ok"
    assert "reports.daily" not in registry.names()


def test_async_functions_are_recognised(tasks: TaskRegistry) -> None:
    async def fetch() -> None: ...

    assert tasks.register(fetch, name="feeds.fetch").is_async


def test_names_are_sorted(tasks: TaskRegistry) -> None:
    for name in ("b.task", "a.task", "c.sub.task"):
        tasks.register(_double, name=name)
    assert tasks.names() == ["a.task", "b.task", "c.sub.task"]


def test_registering_the_same_function_again_is_harmless(tasks: TaskRegistry) -> None:
    first = tasks.register(_double, name="math.double")
    assert tasks.register(_double, name="math.double") == first


def test_a_name_clash_with_another_function_is_refused(tasks: TaskRegistry) -> None:
    tasks.register(_double, name="math.double")
    with pytest.raises(TaskRegistrationError) as caught:
        tasks.register(abs, name="math.double")
    assert str(caught.value) == (
        "task name 'math.double' is already registered for "
        f"{__name__}._double; cannot register builtins.abs under the same name"
    )


def test_the_same_function_with_other_options_is_refused(tasks: TaskRegistry) -> None:
    tasks.register(_double, name="math.double")
    with pytest.raises(TaskRegistrationError, match="already registered with takes_context=False"):
        tasks.register(_double, name="math.double", takes_context=True)


def test_nested_functions_and_lambdas_need_an_explicit_name(tasks: TaskRegistry) -> None:
    def local() -> None: ...

    for func in (local, lambda: None):
        with pytest.raises(TaskRegistrationError, match=re.escape("needs an explicit name=...")):
            tasks.register(func)
    assert tasks.register(local, name="app.local").func is local


@pytest.mark.parametrize("name", ["", "app tasks.send", "app..send", "app.1st"])
def test_names_must_be_dotted_identifiers(tasks: TaskRegistry, name: str) -> None:
    with pytest.raises(TaskRegistrationError, match="expected a dotted path of identifiers"):
        tasks.register(_double, name=name)


def test_only_callables_can_be_registered(tasks: TaskRegistry) -> None:
    with pytest.raises(TaskRegistrationError, match="not callable"):
        tasks.register("os.system", name="os.system")  # type: ignore[arg-type]


# -- resolving -----------------------------------------------------------------


def test_an_unknown_name_says_how_to_register_it(tasks: TaskRegistry) -> None:
    with pytest.raises(TaskNotRegistered) as caught:
        tasks.resolve("billing.tasks.close_month")
    assert str(caught.value) == (
        "task 'billing.tasks.close_month' is not registered: decorate the function with "
        "@job (from scheduler import job), or allow-list its module in "
        "SCHEDULER['TASKS'] (for example 'billing.tasks.*')"
    )
    assert isinstance(caught.value, LookupError)


def test_a_name_no_pattern_allows_is_never_imported(
    tasks: TaskRegistry, make_module: MakeModule
) -> None:
    make_module("tw_boom", "raise RuntimeError('tw_boom must never be imported')\n")
    tasks.allow("tw_safe.*")
    with pytest.raises(TaskNotRegistered, match=re.escape("'tw_boom.task' is not registered")):
        tasks.resolve("tw_boom.task")
    assert not tasks.is_known("tw_boom.task")
    assert "tw_boom" not in sys.modules


def test_is_known_never_imports(tasks: TaskRegistry, make_module: MakeModule) -> None:
    make_module("tw_boom", "raise RuntimeError('tw_boom must never be imported')\n")
    tasks.allow("tw_boom.*")
    assert tasks.is_known("tw_boom.task")
    assert "tw_boom" not in sys.modules


def test_an_allow_listed_function_is_imported_and_cached(
    tasks: TaskRegistry, make_module: MakeModule
) -> None:
    make_module("tw_mail", "def send(to):\n    return f'sent to {to}'\n")
    tasks.allow("tw_mail.*")
    found = tasks.resolve("tw_mail.send")
    assert (found.name, found.takes_context, found.func("ada")) == (
        "tw_mail.send",
        False,
        "sent to ada",
    )
    assert tasks.resolve("tw_mail.send") is found
    assert tasks.names() == []  # names() lists registrations only


def test_importing_an_allowed_module_picks_up_its_job_decorators(make_module: MakeModule) -> None:
    make_module(
        "tw_shared", "from scheduler.tasks.registry import TaskRegistry\nTASKS = TaskRegistry()\n"
    )
    make_module(
        "tw_reports",
        """
        import tw_shared
        from scheduler.tasks.registry import job

        @job(takes_context=True, registry=tw_shared.TASKS)
        def daily(context):
            return context
        """,
    )
    import tw_shared  # type: ignore[import-not-found]

    tw_shared.TASKS.allow("tw_reports.*")
    assert tw_shared.TASKS.resolve("tw_reports.daily").takes_context


def test_a_module_that_fails_to_import_is_named_and_chained(
    tasks: TaskRegistry, make_module: MakeModule
) -> None:
    make_module("tw_boom", "raise RuntimeError('missing setting')\n")
    tasks.allow("tw_boom.*")
    with pytest.raises(TaskNotRegistered) as caught:
        tasks.resolve("tw_boom.task")
    assert str(caught.value) == (
        "task 'tw_boom.task' is allow-listed but its module 'tw_boom' failed to import: "
        "RuntimeError: missing setting"
    )
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_a_missing_module_is_named_and_chained(tasks: TaskRegistry) -> None:
    tasks.allow("tw_absent.*")
    with pytest.raises(TaskNotRegistered, match="module 'tw_absent' failed to import") as caught:
        tasks.resolve("tw_absent.task")
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("tw_things.missing", "module 'tw_things' has no attribute 'missing'"),
        ("tw_things.LIMIT", "'LIMIT' in module 'tw_things' is of type int, not a callable"),
        ("tw_things.run", "'run' is defined in module 'subprocess', not in 'tw_things'"),
        ("tw_things._helper", "'tw_things._helper' is not registered"),
    ],
)
def test_allow_listed_attributes_must_be_public_callables_defined_there(
    tasks: TaskRegistry, make_module: MakeModule, name: str, message: str
) -> None:
    make_module(
        "tw_things",
        """
        from subprocess import run
        LIMIT = 3
        def _helper():
            pass
        """,
    )
    tasks.allow("tw_things.*")
    with pytest.raises(TaskNotRegistered, match=message):
        tasks.resolve(name)


def test_registered_names_win_over_patterns(tasks: TaskRegistry) -> None:
    tasks.allow("os.*")  # explicit trust, however unwise
    tasks.register(_double, name="os.system")
    assert tasks.resolve("os.system").func is _double


@pytest.mark.parametrize("pattern", ["*", "**", "*.*", "*.tasks.*", "?s.system", "os", "[o]s.*"])
def test_patterns_must_start_with_a_package(tasks: TaskRegistry, pattern: str) -> None:
    with pytest.raises(TaskRegistrationError, match="too broad: it must start with a package"):
        tasks.allow(pattern)
    assert tasks.patterns() == []


@pytest.mark.parametrize("pattern", ["", "my app.*", "app.tasks;rm"])
def test_patterns_must_be_dotted_paths(tasks: TaskRegistry, pattern: str) -> None:
    with pytest.raises(TaskRegistrationError, match="is not valid"):
        tasks.allow(pattern)


def test_patterns_match_in_fnmatch_style(tasks: TaskRegistry) -> None:
    tasks.allow("app.tasks.*")
    tasks.allow("app.tasks.*")
    assert tasks.patterns() == ["app.tasks.*"]
    assert tasks.is_known("app.tasks.send")
    assert tasks.is_known("app.tasks.billing.close")  # '*' crosses dots, as documented
    assert not tasks.is_known("app.tasksx.send")
    assert not tasks.is_known("app.views.send")
    assert not tasks.is_known("app.tasks.__class__")


# -- validating job specs -----------------------------------------------------------


def spec(task: str, **options: Any) -> JobSpec:
    return JobSpec.build(name="nightly", task=task, cron="0 3 * * *", **options)


def test_validate_accepts_a_job_whose_task_resolves(tasks: TaskRegistry) -> None:
    tasks.register(_double, name="math.double")
    assert tasks.validate(spec("math.double", args=[2])).func is _double


def test_validate_refuses_an_unknown_task(tasks: TaskRegistry) -> None:
    with pytest.raises(TaskNotRegistered, match=re.escape("'app.nope' is not registered")):
        tasks.validate(spec("app.nope"))


def test_validate_refuses_a_context_kwarg_for_a_task_that_takes_context(
    tasks: TaskRegistry,
) -> None:
    tasks.register(_double, name="math.double", takes_context=True)
    with pytest.raises(InvalidJob, match="job 'nightly': kwargs: 'context' is reserved"):
        tasks.validate(spec("math.double", kwargs={"context": 1}))
