"""AppTest of the home page (app.py)."""

from streamlit.testing.v1 import AppTest

TIMEOUT = 60  # TensorFlow makes first runs slow; AppTest's default 3 s is far too short


def test_home_explains_the_app_and_links_the_pages():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value.endswith("Digit Lab")
    assert "You have not trained a model yet" in at.info[0].value
    links = [link.label for link in at.get("page_link")]
    assert links[:3] == ["Train", "Evaluate", "Draw"]  # the home page's own links
    assert links[3:] == ["Home", "Train", "Evaluate", "Draw"]  # the sidebar navigation


def test_home_does_not_import_tensorflow():
    import subprocess
    import sys

    # A fresh interpreter: importing what the home page imports must not pull in TensorFlow.
    code = "import sys; import ui.state, core.runs, core.spec; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__('pathlib').Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "False"
