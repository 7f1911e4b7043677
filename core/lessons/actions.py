"""The action kinds a lesson step may name (ACTIONS): each becomes one link the learner clicks.

"set_up" opens Train in the mode the step needs with its form filled through the same recipe path
as a "share these settings" link (core.model.spec.values_from_link: every value checked there); it
never starts a training. "open_page" opens a page. A file's action is checked when it is read
(`problems`), so a lesson naming a setting that does not exist is refused with its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.i18n import N_, message
from core.model.settings import DEFAULT_VALUES, SETTINGS_BY_KEY
from core.model.spec import SpecError, spec_from_values, values_from_link

TRAIN_MODES = ("train", "compare", "fine_tune")  # the Train page's `mode` query parameter
PAGES = ("train", "evaluate", "draw", "digits", "learn")  # where an open_page action may go
PAGE_WORDS = {"train": N_("Train"), "evaluate": N_("Evaluate"), "draw": N_("Draw"), "digits": N_("My digits"),
              "learn": N_("Learn")}


@dataclass(frozen=True)
class ActionLink:
    """What the learner's one click does: open `page` with these query parameters (the lab's are added)."""

    page: str  # one of PAGES
    params: dict[str, str]
    label: str  # a core.i18n Message (a lesson file's own label, or ours): translated where shown


@dataclass(frozen=True)
class ActionKind:
    what: str
    problems: Callable[[Mapping[str, Any]], list[str]]  # what is wrong with a file's params ([] when fine)
    link: Callable[[Mapping[str, Any]], ActionLink]


def as_text(value: Any) -> str:
    """A lesson file's value as a link writes it: 0.1 -> '0.1', 128 -> '128', [16, 32] -> '16, 32'."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def set_up_problems(params: Mapping[str, Any]) -> list[str]:
    """A set_up's mode, settings, and for compare the setting varied and its values, checked as a link's would be."""
    problems = [f"unknown parameter {name!r} (it takes mode, settings, vary, values, label)"
                for name in params if name not in ("mode", "settings", "vary", "values", "label")]
    mode = params.get("mode", "train")
    if mode not in TRAIN_MODES:
        problems.append(f"mode {mode!r} is not one of {', '.join(TRAIN_MODES)}")
    settings = params.get("settings", {})
    if not isinstance(settings, dict):
        return [*problems, "settings must be a table of setting = value"]
    unknown = [k for k in settings if k not in SETTINGS_BY_KEY]
    problems += [f"names a setting that does not exist: {k!r} (the settings are {', '.join(SETTINGS_BY_KEY)})"
                 for k in unknown]
    known = {k: as_text(v) for k, v in settings.items() if k in SETTINGS_BY_KEY}
    values, link_problems = values_from_link(known)
    problems += [f"setting {p}" for p in link_problems]
    if not unknown and not link_problems:
        try:
            spec_from_values({**DEFAULT_VALUES, **values})
        except SpecError as error:
            problems.append(f"its settings make no network: {error}")
    if mode == "compare":
        vary = params.get("vary")
        if vary not in SETTINGS_BY_KEY:
            problems.append(f"a comparison needs vary = one of the settings, not {vary!r}")
        else:
            options = params.get("values")
            if not isinstance(options, list) or len(options) < 2:
                problems.append("a comparison needs values = a list of at least two values")
            else:
                problems += [f"value {p}" for option in options
                             for p in values_from_link({vary: as_text(option)})[1]]
    return problems


def set_up_link(params: Mapping[str, Any]) -> ActionLink:
    """Train, in the step's mode, its form filled from the step's settings (nothing starts)."""
    mode = params.get("mode", "train")
    query = {"mode": mode, **{k: as_text(v) for k, v in params.get("settings", {}).items()}}
    if mode == "compare":
        query["vary"] = params["vary"]
        query["values"] = ",".join(as_text(v) for v in params["values"])
    label = message(params["label"]) if params.get("label") else {
        "train": message("Set up this network"), "compare": message("Set up this comparison"),
        "fine_tune": message("Set up the fine-tuning")}[mode]
    return ActionLink("train", query, label)


def open_page_problems(params: Mapping[str, Any]) -> list[str]:
    problems = [f"unknown parameter {name!r} (it takes page, label)"
                for name in params if name not in ("page", "label")]
    if params.get("page") not in PAGES:
        problems.append(f"page {params.get('page')!r} is not one of {', '.join(PAGES)}")
    return problems


def open_page_link(params: Mapping[str, Any]) -> ActionLink:
    page = params["page"]
    label = message(params["label"]) if params.get("label") else message("Open {page}",
                                                                          page=message(PAGE_WORDS[page]))
    return ActionLink(page, {}, label)


ACTIONS: dict[str, ActionKind] = {
    "set_up": ActionKind("open Train with its form filled in (never starts a training)", set_up_problems,
                         set_up_link),
    "open_page": ActionKind("open a page", open_page_problems, open_page_link),
}


def action_link(kind: str, params: Mapping[str, Any]) -> ActionLink:
    """The link of one step's action."""
    return ACTIONS[kind].link(params)
