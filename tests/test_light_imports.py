"""The modules the home page's script run needs stay free of TensorFlow and Keras (seconds on a cold server).

LIGHT is what `streamlit run app.py` imports of the app's own code while the home page is drawn (the
warm-up off): pinned here, and checked against a real run, so that a module that starts importing
TensorFlow at its top fails here with its name, and a new module on the home page's path is added
to the list on purpose.
"""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

LIGHT = (
    "core.limits", "core.words", "core.i18n",  # core.model.settings reads its labels there
    "core.data", "core.data.datasets", "core.data.drawing", "core.data.handwriting", "core.data.readers",
    "core.model", "core.model.config_size", "core.model.default_model", "core.model.files", "core.model.optimizers",
    "core.model.run", "core.model.settings", "core.model.spec",
    "core.lessons", "core.lessons.actions", "core.lessons.answers", "core.lessons.checks", "core.lessons.content",
    "core.lessons.state",
    "core.analysis", "core.analysis.evaluation", "core.analysis.history",
    "core.training", "core.training.job", "core.training.launch", "core.training.memory", "core.training.queue",
    "core.training.ray", "core.training.ray.actor", "core.training.ray.capacity", "core.training.ray.connection",
    "core.training.ray.job",
    "core.storage", "core.storage.engine", "core.storage.owners", "core.storage.records", "core.storage.schema",
    "core.storage.progress", "core.storage.secrets", "core.storage.sink", "core.storage.store", "core.storage.classes",
    "core.server", "core.server.board", "core.server.collector", "core.server.housekeeper", "core.server.new_labs",
    "core.server.warmup", "core.server.guesses",
    "ui.classes", "ui.drawing_box", "ui.i18n", "ui.lab", "ui.layout", "ui.lazy", "ui.lessons", "ui.model_picker",
    "ui.session",
    "ui.state",
    "ui.text",
)
# One script run (AppTest) imports them all, as the pages do: a Streamlit component (ui.drawing_box's
# canvas) can only be declared in one. It runs in this interpreter, so sys.modules tells afterwards.
IMPORT_LIGHT = """
import json, os, sys
from streamlit.testing.v1 import AppTest
script = (
    "import importlib, os, sys\\n"
    "for name in os.environ['LIGHT_MODULES'].split():\\n"
    "    importlib.import_module(name)\\n"
    "    if any(package in sys.modules for package in ('tensorflow', 'keras')):\\n"
    "        raise ImportError(name + ' imports TensorFlow or Keras')\\n"
)
at = AppTest.from_string(script, default_timeout=60).run()
errors = [e.value for e in at.exception]
print(json.dumps({"errors": errors, "heavy": [p for p in ("tensorflow", "keras") if p in sys.modules]}))
"""

HOME_MODULES = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=60).run()
own = sorted(m for m in sys.modules if m.split(".")[0] in ("core", "ui") and m not in ("core", "ui"))
print(json.dumps({"exception": bool(at.exception), "modules": own}))
"""


def run_fresh(code: str, **env_vars: str) -> dict:
    """Run `code` in a new Python at the repository root (the warm-up off); the JSON it printed last."""
    env = dict(os.environ, DIGITLAB_WARMUP="0", **env_vars)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_light_modules_import_no_tensorflow():
    assert run_fresh(IMPORT_LIGHT, LIGHT_MODULES=" ".join(LIGHT)) == {"errors": [], "heavy": []}


def test_the_list_is_what_the_home_page_imports():
    home = run_fresh(HOME_MODULES)
    assert not home["exception"]
    assert sorted(home["modules"]) == sorted(LIGHT), "update LIGHT: the home page's imports changed"
