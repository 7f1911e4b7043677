"""The Ray connection's errors in plain words, in each language (no cluster needed)."""

from core.i18n import translate
from core.training.ray.connection import explain_ray_error


def test_a_worker_without_the_apps_code_is_explained_in_each_language():
    missing = explain_ray_error(ModuleNotFoundError("No module named 'core'", name="core"))
    assert missing.startswith("The Ray workers do not have Digit Lab's code")
    assert translate("de", missing).startswith("Die Ray-Arbeiter haben den Code von Digit Lab nicht: Installiere die "
                                               "App auf ihnen, oder setze DIGITLAB_RAY_WORKING_DIR")
    failed = explain_ray_error(ValueError("bad shape"))
    assert translate("es", failed) == "El entrenamiento falló: ValueError: bad shape"
