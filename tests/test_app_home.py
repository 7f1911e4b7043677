"""AppTest of the home page (app.py)."""

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

TIMEOUT = 60  # TensorFlow makes first runs slow; AppTest's default 3 s is far too short


def test_home_explains_the_app_and_links_the_pages():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value.endswith("Digit Lab")
    assert "You have not trained a model yet" in at.info[0].value
    links = [link.label for link in at.get("page_link")]
    assert links[:3] == ["Train", "Evaluate", "Draw"]  # the home page's own links
    assert links[3:] == ["Home", "Train", "Evaluate", "Draw", "My digits"]  # the sidebar navigation


def test_opening_the_home_page_imports_no_tensorflow():
    # A fresh interpreter runs app.py itself through Streamlit's script runner: whatever the home
    # page imports, directly or not, must not pull in TensorFlow (seconds on a cold server).
    code = ("import sys; from streamlit.testing.v1 import AppTest; "
            "at = AppTest.from_file('app.py', default_timeout=60).run(); "
            "print(bool(at.exception), 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False", "False"]
