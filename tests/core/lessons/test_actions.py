"""core.lessons.actions: a step's action becomes one link whose query parameters the Train page's recipe
path (values_from_link) reads back as the step's settings; bad params are named."""

from core.lessons.actions import ACTIONS, action_link
from core.lessons.content import load_lessons
from core.model.settings import SETTINGS_BY_KEY
from core.model.spec import values_from_link


def test_set_up_fills_train_through_the_settings_link_path():
    params = {"settings": {"dataset": "mnist", "hidden": "", "lr": 0.1, "epochs": 5, "limit": 5000}}
    link = action_link("set_up", params)
    assert (link.page, link.label) == ("train", "Set up this network")
    assert link.params == {"mode": "train", "dataset": "mnist", "hidden": "", "lr": "0.1", "epochs": "5",
                           "limit": "5000"}
    values, problems = values_from_link(link.params)
    assert problems == [] and values == {"dataset": "mnist", "hidden": "", "lr": 0.1, "epochs": 5, "limit": 5000}


def test_a_comparison_names_the_setting_it_varies_and_its_values():
    link = action_link("set_up", {"mode": "compare", "vary": "optimizer", "values": ["sgd", "adam"],
                                  "settings": {"dataset": "digits"}})
    assert link.params == {"mode": "compare", "dataset": "digits", "vary": "optimizer", "values": "sgd,adam"}
    assert link.label == "Set up this comparison"


def test_set_up_problems_name_what_is_wrong():
    problems = ACTIONS["set_up"].problems
    assert problems({"settings": {"dataset": "digits"}}) == []
    assert "names a setting that does not exist: 'hiden'" in problems({"settings": {"hiden": "15"}})[0]
    assert "is not one of" in problems({"settings": {"optimizer": "magic"}})[0]
    assert "mode 'race'" in problems({"mode": "race"})[0]
    assert "needs vary" in problems({"mode": "compare", "values": [1, 2]})[0]
    assert "at least two values" in problems({"mode": "compare", "vary": "lr", "values": [0.1]})[0]
    assert "is not a number" in problems({"mode": "compare", "vary": "lr", "values": [0.1, "big"]})[0]
    shrunk = problems({"settings": {"kind": "cnn", "filters": "8, 8, 8, 8", "dataset": "digits"}})
    assert "make no network" in shrunk[0] and "shrink the Digits" in shrunk[0]


def test_open_page_goes_to_a_known_page_only():
    assert action_link("open_page", {"page": "evaluate"}).label == "Open Evaluate"
    assert "page 'kitchen'" in ACTIONS["open_page"].problems({"page": "kitchen"})[0]


def test_every_shipped_set_up_names_only_real_settings_and_a_valid_recipe():
    for lesson in load_lessons().lessons:
        for step in lesson.steps:
            if step.action == "set_up":
                link = action_link(step.action, step.action_params)
                named = set(link.params) - {"mode", "vary", "values"}
                assert named <= set(SETTINGS_BY_KEY), (lesson.key, step.title)
                assert values_from_link(link.params)[1] == [], (lesson.key, step.title)
