"""Sweeps: one setting varied over a few values, every other setting the same, one training each.

A sweep is parsed and validated whole before anything starts: its values go through the settings
table as a share link's do (`core.model.spec.read_link_value`), and every member's spec through
`core.model.spec.spec_from_values`. Its members are ordinary trainings (`core.training.local.TrainingJob`, or
`core.training.ray.job.RayTrainingJob` on a cluster): they queue under the server's cap like any other
and each becomes an ordinary run, named after its sweep ("Sweep ab12 · optimizer=Adam") and
carrying the sweep's tag in `job.sweep` (the store's `runs.sweep` column).

Nothing here imports TensorFlow or Streamlit.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from core.i18n import N_, message
from core.model.settings import DEFAULT_VALUES, SETTINGS_BY_KEY, Setting
from core.model.spec import (
    SpecError,
    TrainSpec,
    as_message,
    join_names,
    parse_sizes,
    read_link_value,
    spec_from_values,
)
from core.training.job import ENDED, Job, JobState
from core.training.queue import QueueFull

MIN_VALUES = 2
MAX_VALUES = 8  # the palette's eight colours, and a fair share of a shared server

# The settings a sweep may vary (keys of core.model.settings.SETTINGS) and the values offered first.
# The optimizers are the seed's grid search; the numbers sit on each widget's stops.
SWEEPABLE: dict[str, tuple] = {
    "optimizer": ("sgd", "rmsprop", "adam", "adamax", "nadam"),
    "kind": ("dense", "cnn"),
    "lr": (0.001, 0.01, 0.1),
    "hidden": ("15", "64", "128, 64"),
    "dropout": (0.0, 0.2, 0.5),
    "batch": (16, 32, 128),
    "limit": (500, 1000, 0),
}

TAG_PATTERN = re.compile(r"^Sweep ([0-9a-f]{4}) · ")  # run names are not translated: they are the runs' names
SWEEP_STOPPED = message("The sweep was stopped.")
STATE_COUNTS: dict[str, str] = {JobState.FINISHED: N_("{count} finished"), JobState.STOPPED: N_("{count} stopped"),
                JobState.FAILED: N_("{count} failed"), JobState.TRAINING: N_("{count} training"),
                JobState.LOADING: N_("{count} loading"), JobState.WAITING: N_("{count} waiting")}




def sweep_setting(setting_key: str) -> Setting:
    """The settings-table entry a sweep varies; SpecError when that setting cannot be varied."""
    if setting_key not in SWEEPABLE:
        choices = ", ".join(SWEEPABLE)
        raise SpecError({"sweep": message("{key} cannot be changed in a sweep; choose one of {choices}",
                                          key=repr(setting_key), choices=choices)})
    return SETTINGS_BY_KEY[setting_key]


def default_sweep_values(setting_key: str) -> list:
    """The values a sweep of `setting_key` offers first."""
    sweep_setting(setting_key)
    return list(SWEEPABLE[setting_key])


def split_sweep_text(setting: Setting, text: str) -> list[str]:
    """'adam, sgd' -> ['adam', 'sgd']. Hidden layers are lists themselves: '64; 128, 64' (or one a line)."""
    spaced = any(" " in setting.label_of(option) for option in setting.options)  # "Dense layers"
    separators = r"[;\n|]" if setting.widget == "sizes" else r"[,;\n]+" if spaced else r"[,;\s]+"
    return [part.strip() for part in re.split(separators, text) if part.strip()]


def item_text(setting: Setting, item: Any) -> str:
    """One value as the settings table reads it: an option's key ('Adam' -> 'adam'), '64, 64' for (64, 64)."""
    if setting.widget == "sizes" and isinstance(item, list | tuple):
        return ", ".join(str(v) for v in item)
    text = str(item).strip()
    if not setting.is_number:
        by_name = {str(o).lower(): str(o) for o in setting.options}
        by_name.update({setting.label_of(o).lower(): str(o) for o in setting.options})
        return by_name.get(text.lower(), text)
    return text


def check_sweep_item(setting: Setting, text: str) -> None:
    """SpecError naming `text` when it is not a value of `setting` at all (clamping is not enough)."""
    if setting.widget == "sizes":
        parse_sizes(text, setting.key)  # its own SpecError names the text
    elif setting.is_number:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise SpecError({setting.key: message("{text} is not a number", text=repr(text))})

    elif text not in {str(option) for option in setting.options}:
        names = join_names(setting.label_of(option) for option in setting.options)
        raise SpecError({setting.key: message("{text} is not one of {names}", text=repr(text), names=names)})


def read_sweep_values(setting_key: str, values: str | Iterable[Any]) -> tuple[list, list[str]]:
    """A sweep's values, checked and clamped through the settings table, and a note for each one changed.

    A value that is not a number, or not one of the setting's options, is a SpecError naming it;
    so are duplicates (also those that clamping made), fewer than 2 or more than 8 values. A value
    out of range, or between a select slider's stops, is clamped (noted), as in a share link.
    """
    setting = sweep_setting(setting_key)
    items = split_sweep_text(setting, values) if isinstance(values, str) else list(values)
    parsed: list[Any] = []
    notes: list[str] = []
    seen: dict[Any, str] = {}  # value -> the text it came from
    for item in items:
        text = item_text(setting, item)
        check_sweep_item(setting, text)
        value, problem = read_link_value(setting, text)
        if problem:
            notes.append(problem)
        if value in seen:
            name = as_message(setting.label_of(value))
            twice = (message("{name} is listed twice", name=name) if seen[value] == text else
                     message("{name} is listed twice ({first} and {second})", name=name, first=repr(seen[value]),
                             second=repr(text)))
            raise SpecError({setting_key: twice})
        seen[value] = text
        parsed.append(value)
    if len(parsed) < MIN_VALUES:
        raise SpecError({setting_key: message("a sweep compares at least {least} values (here {count})",
                                              least=MIN_VALUES, count=len(parsed))})
    if len(parsed) > MAX_VALUES:
        raise SpecError({setting_key: message("a sweep compares at most {most} values (here {count})",
                                              most=MAX_VALUES, count=len(parsed))})
    return parsed, notes


def parse_sweep_values(setting_key: str, values: str | Iterable[Any]) -> list:
    """The checked and clamped values of a sweep (see read_sweep_values); SpecError names a bad one."""
    return read_sweep_values(setting_key, values)[0]


def member_label(setting_key: str, value: Any) -> str:
    """'optimizer=Adam', 'lr=0.01', 'hidden=128, 64'."""
    return f"{setting_key}={SETTINGS_BY_KEY[setting_key].label_of(value)}"


def sweep_specs(base_values: dict[str, Any], setting_key: str, values: Sequence[Any]) -> list[tuple[str, TrainSpec]]:
    """(label, validated spec) of each member: `base_values` (the form's) with one setting changed.

    Every member is checked before any is returned: one SpecError names each bad member and why.
    A problem every member shares (the form's, not the values') is said once, by its field.
    Keys missing from `base_values` take the settings table's defaults.
    """
    sweep_setting(setting_key)
    members, errors, problems = [], {}, []
    for value in values:
        label = member_label(setting_key, value)
        try:
            members.append((label, spec_from_values({**DEFAULT_VALUES, **base_values, setting_key: value})))
        except SpecError as error:
            errors[label] = str(error)
            problems.append(error)
    if problems and len(problems) == len(values) and all(p.errors == problems[0].errors for p in problems):
        raise problems[0]
    if errors:
        raise SpecError(errors)
    return members


def new_sweep_tag() -> str:
    """A short random id such as 'ab12': the sweep's tag on its runs and in their names."""
    return secrets.token_hex(2)


def member_name(tag: str, label: str) -> str:
    """'Sweep ab12 · optimizer=Adam': the member's run name."""
    return f"Sweep {tag} · {label}"


def tag_of_name(name: str) -> str | None:
    """The sweep tag in a member's run name, or None for a run outside any sweep."""
    match = TAG_PATTERN.match(name or "")
    return match.group(1) if match else None


def best_val_accuracy(history: dict[str, list[float]]) -> float | None:
    """The best validation accuracy of any epoch so far, or None before the first epoch ends."""
    values = history.get("val_accuracy") or []
    return max(values) if values else None


M = TypeVar("M")


def rank_members(
    members: Sequence[M],
    history_of: Callable[[M], dict] = lambda m: m.history(),  # type: ignore[attr-defined]  # M is a job by default
) -> list[M]:
    """Best validation accuracy first; members without one last; ties keep their order (stable)."""
    def key(member: M) -> tuple[bool, float]:
        best = best_val_accuracy(history_of(member))
        return best is None, -(best or 0.0)

    return sorted(members, key=key)


@dataclass
class SweepMember:
    """One value of the sweep and the training that tries it."""

    label: str  # "optimizer=Adam"
    value: Any
    job: Job
    index: int  # its colour: core.figures.style.color_of(index), in every chart


class Sweep:
    """The member trainings of one sweep: start them all, stop them all, read how far they got."""

    def __init__(self, tag: str, setting_key: str, members: list[SweepMember]):
        self.tag = tag
        self.setting_key = setting_key
        self.members = members

    @property
    def label(self) -> str:
        """'Sweep ab12 · optimizer (5 values)'."""
        return message("Sweep {tag} · {setting} ({count} values)", tag=self.tag, setting=self.setting_key,
                       count=len(self.members))

    def start_all(self) -> Sweep:
        """Start every member; they wait for the server's slots (or the cluster's CPUs) in order.

        All or nothing: when the server's line cannot take them all (QueueFull), the members
        started already leave it and QueueFull is raised.
        """
        started = []
        try:
            for member in self.members:
                member.job.start()
                started.append(member.job)
        except QueueFull:
            for job in started:
                job.discard(message("The server's line was full."), keep_run=False)
            raise
        return self

    def stop_all(self, reason: str = SWEEP_STOPPED) -> None:
        """Stop every member that has not ended: waiting ones never start, running ones keep their weights."""
        for member in self.members:
            if not member.job.done:
                member.job.stop(reason)

    @property
    def done(self) -> bool:
        return all(member.job.done for member in self.members)

    @property
    def settled(self) -> bool:
        """True once every member has ended and its sink has kept its run (core.server.board.Board's item)."""
        return all(member.job.settled for member in self.members)

    @property
    def settled_at(self) -> float | None:
        """When the last member settled (time.monotonic()), None while one runs."""
        times = [member.job.settled_at for member in self.members]
        settled = [at for at in times if at is not None]
        return None if len(settled) < len(times) else max(settled, default=None)

    def watched(self) -> bool:
        """True while a tab of its lab may still show it."""
        return any(member.job.watched() for member in self.members)

    def release(self) -> None:
        for member in self.members:
            member.job.release()

    def discard(self, reason: str = SWEEP_STOPPED, keep_run: bool = True) -> None:
        """Stop every member and let go of their memory as each ends (the sweep is off its board)."""
        for member in self.members:
            member.job.discard(reason, keep_run)

    def counts(self) -> dict[str, int]:
        """How many members are in each state, e.g. {'finished': 2, 'training': 1, 'waiting': 2}."""
        counts: dict[str, int] = {}
        for member in self.members:
            counts[member.job.state] = counts.get(member.job.state, 0) + 1
        return counts

    def fraction(self) -> float:
        """Share of all members' batches done, 0..1 (an ended member counts as whole)."""
        parts = [1.0 if m.job.done else m.job.snapshot().fraction for m in self.members]
        return sum(parts) / len(parts) if parts else 1.0

    def summary(self) -> str:
        """'2 finished · 1 training · 2 waiting'."""
        order = (*ENDED, JobState.TRAINING, JobState.LOADING, JobState.WAITING)
        counts = self.counts()
        states = sorted(counts, key=lambda s: order.index(s) if s in order else len(order))
        parts = [message(STATE_COUNTS.get(state, "{count} " + str(state)), count=counts[state]) for state in states]
        joined = parts[0] if parts else message("{text}", text="")
        for part in parts[1:]:
            joined = message("{first} · {second}", first=joined, second=part)
        return joined

    def member_colors(self) -> dict[int, int]:
        """{run id: member index} of the members whose run is saved: their colour in other charts."""
        return {m.job.run_id: m.index for m in self.members if m.job.run_id is not None}

    def ranked(self) -> list[SweepMember]:
        """The members, best validation accuracy first (see rank_members)."""
        return rank_members(self.members, lambda member: member.job.history())

    def results(self) -> list[dict[str, Any]]:
        """The results table, best first: one row per member (plain values, ready for a dataframe)."""
        rows = []
        for member in self.ranked():
            history = member.job.history()
            accuracies = history.get("val_accuracy") or []
            best = best_val_accuracy(history)
            rows.append({
                "member": member.label, "state": member.job.state,
                "best val accuracy": best,
                "best epoch": accuracies.index(best) + 1 if best is not None else None,
                "epochs": len(history.get("loss") or []),
                "val loss": min(history["val_loss"]) if history.get("val_loss") else None,
                "run_id": member.job.run_id, "index": member.index,
            })
        return rows

    def member_of(self, run_id: int) -> SweepMember | None:
        """The member whose run is `run_id` (to make it the current model)."""
        return next((m for m in self.members if m.job.run_id == run_id), None)


def make_local_job(spec: TrainSpec, name: str) -> Job:
    """A member as an ordinary core.training.local.TrainingJob (the server's slots, no sink)."""
    from core.training.local import TrainingJob  # imports TensorFlow: a Ray-only server never does

    return TrainingJob(spec, name=name)


def make_sweep(base_values: dict[str, Any], setting_key: str, values: str | Iterable[Any],
               make_job: Callable[[TrainSpec, str], Job] = make_local_job, tag: str | None = None) -> Sweep:
    """A sweep ready to start: values parsed, every member validated, then one job each (not started).

    `make_job(spec, name)` creates a member's job: pass core.training.launch.make_job with the page's
    sink and liveness check bound, so that members are saved and run wherever trainings run. Each job
    gets `job.sweep = tag` for the sink to store with its run.
    """
    parsed = parse_sweep_values(setting_key, values)
    specs = sweep_specs(base_values, setting_key, parsed)
    tag = tag or new_sweep_tag()
    members = []
    for index, (value, (label, spec)) in enumerate(zip(parsed, specs)):
        job = make_job(spec, member_name(tag, label))
        job.sweep = tag  # type: ignore[attr-defined]  # read by the sink (RunRecord.sweep)
        members.append(SweepMember(label=label, value=value, job=job, index=index))
    return Sweep(tag, setting_key, members)

