"""The lock files agree with pyproject.toml, so the lock cannot rot silently.

``make`` installs from requirements.lock (everything but torch) and requirements-model.lock (the
embedded model's carrier package); pyproject.toml keeps the ranges that ``pip install`` into another
environment resolves. A dependency added to one and not the other, a pin outside its range, or a
deliberate pin in constraints.txt that the lock does not follow fails here; ``make lock`` repairs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
DIRECT = "promptfusion (pyproject.toml)"
LOCKED_EXTRAS = ("soft", "dev", "mlflow")
# Installed on its own by .ci/setup, so that an importable torch (a CUDA build) is kept.
OUTSIDE_THE_LOCK = {"torch"}


def parse_lock(path: Path) -> dict[str, dict]:
    """``{name: {"version", "hashes", "via"}}`` from a ``uv pip compile --generate-hashes`` file."""
    entries: dict[str, dict] = {}
    current = None
    for line in path.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", line)
        if pin:
            current = {"version": pin.group(2), "hashes": 0, "via": set()}
            entries[canonicalize_name(pin.group(1))] = current
        elif current is not None and "--hash=sha256:" in line:
            current["hashes"] += 1
        elif current is not None and line.strip().startswith("#"):
            text = line.strip().lstrip("#").strip()
            if text.startswith("via "):
                text = text[4:]
            if text and text != "via":
                current["via"].add(text)
        elif not line.strip():
            current = None
    return entries


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    texts = project["dependencies"] + [text for extra in LOCKED_EXTRAS for text in extras[extra]]
    return [Requirement(text) for text in texts]


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


@pytest.fixture(scope="module")
def lock() -> dict[str, dict]:
    return parse_lock(ROOT / "requirements.lock")


def test_every_declared_dependency_is_locked_inside_its_range(lock):
    problems = []
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        if name in OUTSIDE_THE_LOCK:
            assert name not in lock, f"{name} is installed on its own and must stay out of the lock"
            continue
        if name not in lock:
            problems.append(f"{requirement} is declared in pyproject.toml but not locked")
        elif not requirement.specifier.contains(lock[name]["version"], prereleases=True):
            problems.append(f"{name}=={lock[name]['version']} is outside pyproject.toml's '{requirement}'")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_every_direct_entry_of_the_lock_is_declared(lock):
    declared = {canonicalize_name(requirement.name) for requirement in declared_requirements()}
    direct = {name for name, entry in lock.items() if DIRECT in entry["via"]}
    assert direct - declared == set(), "locked as direct dependencies but not in pyproject.toml"
    assert declared - OUTSIDE_THE_LOCK == direct, (
        "declared but not marked direct in the lock: run `make lock`"
    )


def test_every_locked_file_is_hashed(lock):
    model_lock = parse_lock(ROOT / "requirements-model.lock")
    assert {name for name, entry in {**lock, **model_lock}.items() if entry["hashes"] == 0} == set()


def test_deliberate_pins_are_what_the_lock_holds(lock):
    pins = constraint_pins()
    assert set(OUTSIDE_THE_LOCK) <= set(pins), "constraints.txt must pin what .ci/setup installs on its own"
    for name, version in pins.items():
        if name not in OUTSIDE_THE_LOCK:
            assert lock[name]["version"] == version, f"constraints.txt pins {name}=={version}"
    for requirement in declared_requirements():
        name = canonicalize_name(requirement.name)
        if name in OUTSIDE_THE_LOCK:
            assert requirement.specifier.contains(pins[name]), (
                f"constraints.txt's {name} is outside {requirement}"
            )


def test_the_embedded_model_package_is_the_one_the_code_asks_for():
    from orchestrator.local_model.source import EMBEDDED_MODELS

    model_lock = parse_lock(ROOT / "requirements-model.lock")
    locked = sorted(f"{name}=={entry['version']}" for name, entry in model_lock.items())
    assert locked == sorted({model.pip_name for model in EMBEDDED_MODELS.values()})
